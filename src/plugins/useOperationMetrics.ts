import { createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../infra/metrics.js';

/**
 * The GraphQL operation duration histogram, by operation name (bucketed by
 * `Metrics.operationLabel`) and type, through @graphql-yoga/plugin-prometheus.
 * Only that metric of the plugin is on: the others repeat it per phase or
 * label raw URLs. The plugin serves no endpoint: /metrics lives on the
 * operations port.
 */
export function useOperationMetrics(metrics: Metrics): Plugin {
  const { name, help, labelNames, buckets } = metrics.operationDuration;
  return usePrometheus({
    registry: metrics.registry,
    endpoint: false,
    metrics: {
      ...OFF,
      graphql_envelop_request_duration: createHistogram({
        registry: metrics.registry,
        histogram: { name, help, labelNames: [...labelNames], buckets },
        fillLabelsFn: (params) => ({ operation_name: metrics.operationLabel(params.operationName), operation_type: params.operationType ?? 'unknown' }),
      }),
    },
  });
}

const OFF = {
  graphql_envelop_deprecated_field: false,
  graphql_envelop_request: false,
  graphql_envelop_request_time_summary: false,
  graphql_envelop_phase_parse: false,
  graphql_envelop_phase_validate: false,
  graphql_envelop_phase_context: false,
  graphql_envelop_error_result: false,
  graphql_envelop_execute_resolver: false,
  graphql_envelop_phase_execute: false,
  graphql_envelop_phase_subscribe: false,
  graphql_envelop_schema_change: false,
  graphql_yoga_http_duration: false,
} as const;
