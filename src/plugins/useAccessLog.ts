import { getOperationAST, type OperationTypeNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../infra/metrics.js';
import { currentRequest } from '../infra/request-scope.js';
import type { Logger } from '../infra/logger.js';

export interface AccessLogOptions {
  /** Where the lines go (info level). */
  logger: Logger;
  /** Counts the error codes (`gateway_graphql_errors_total`). */
  metrics: Metrics;
}

interface Operation {
  started: number;
  name: string | null;
  type: OperationTypeNode | null;
  codes: Set<string>;
}

/**
 * One access log line per GraphQL operation over HTTP, when its response
 * starts: operation name and type, duration in ms, HTTP status, the error
 * codes of the result, and the number of upstream calls it made. Never
 * variables, the document or a header; the request id comes with every line.
 * Each error code is also counted in the metrics.
 */
export function useAccessLog({ logger, metrics }: AccessLogOptions): Plugin {
  const operations = new WeakMap<Request, Operation>();
  return {
    onParams({ request, params }) {
      operations.set(request, { started: performance.now(), name: cleanName(params.operationName), type: null, codes: new Set() });
    },
    onParse({ context }) {
      const { request } = context as { request?: Request };
      return ({ result }) => {
        const operation = request && operations.get(request);
        if (!operation || result instanceof Error || !result) return;
        const ast = getOperationAST(result, operation.name);
        operation.type = ast?.operation ?? null;
        operation.name ??= cleanName(ast?.name?.value);
      };
    },
    onResultProcess({ request, result }) {
      const operation = operations.get(request);
      if (Symbol.asyncIterator in result) return;
      for (const one of Array.isArray(result) ? result : [result]) {
        for (const error of one.errors ?? []) {
          const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
          metrics.graphqlError(code);
          operation?.codes.add(typeof code === 'string' ? code.slice(0, 40) : 'INTERNAL_SERVER_ERROR');
        }
      }
    },
    onResponse({ request, response }) {
      const operation = operations.get(request);
      if (!operation) return;
      logger.info('graphql operation', {
        operation: operation.name,
        type: operation.type,
        status: response.status,
        ms: Math.round(performance.now() - operation.started),
        errors: [...operation.codes],
        upstreamCalls: currentRequest()?.upstreamCalls ?? 0,
      });
    },
  };
}

/** An operation name as sent, if it is a GraphQL name (else it is not logged). */
function cleanName(name: string | null | undefined): string | null {
  return typeof name === 'string' && /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name) ? name : null;
}
