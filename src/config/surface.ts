import { z } from 'zod';
import { bool, group, int, optionalBool, optionalUrl, setting } from './declare.js';

/** What the public endpoint offers, and how the gateway is watched and stopped. */
export const surface = group(
  'Public surface',
  'What the public endpoint offers beyond the API itself. The switches that follow the mode are on outside production and off in it, unless set.',
  {
    TRUSTED_DOCUMENTS: setting(bool(false), 'Run only the documents of the manifest `npm run codegen` writes, named by hash; a raw query or an unknown hash is refused.', {
      example: 'true',
      note: 'The manifest is `src/client/generated/persisted-documents.json`. For first-party apps in production; GraphiQL cannot send raw queries then.',
    }),
    GRAPHIQL: setting(optionalBool(), 'Serve GraphiQL on `GET /graphql` to browsers.', { shownDefault: 'true; false when NODE_ENV=production' }),
    INTROSPECTION: setting(optionalBool(), 'Answer introspection (`__schema`, `__type`).', { shownDefault: 'true; false when NODE_ENV=production' }),
    FIELD_SUGGESTIONS: setting(optionalBool(), '"Did you mean …" suggestions in validation errors.', { shownDefault: 'true; false when NODE_ENV=production' }),
    DATING_ANONYMOUS_SIGNUPS: setting(bool(false), 'Allow `createDatingUser` without a session (landing pages), at most `DATING_ANONYMOUS_PER_MINUTE` per client address.', {
      note: 'Off: only signed-in users, so the affiliate key is no open sign-up relay.',
    }),
  },
);

export const operations = group(
  'Operating',
  'Metrics, health, tracing, logs and shutdown: for the people who run the gateway.',
  {
    METRICS_PORT: setting(int(9464, 0, 65535), 'Port of the operations server: Prometheus `/metrics`, `/health` and `/readiness`.', {
      example: '9464',
      note: 'Apart from the public port, which serves `/health` and `/readiness` but never `/metrics`.',
    }),
    METRICS_HOST: setting(z.string().min(1).default('127.0.0.1'), 'Interface of the operations server; `0.0.0.0` lets a scraper on another host in (keep the port off the internet).', {
      example: '0.0.0.0',
    }),
    SHUTDOWN_GRACE_MS: setting(int(10_000, 0, 600_000), 'On SIGTERM: how long requests in flight may take to finish before the rest are cut, in milliseconds.', {
      example: '20000',
      note:
        'Readiness turns 503 and new connections stop first; then HTTP requests and graphql-ws queries and mutations in flight get this one grace, all at once. ' +
        'Longer than the load balancer\'s deregistration delay is pointless; keep it shorter than the orchestrator\'s kill timeout (Kubernetes: 30 s).',
    }),
    OTEL_EXPORTER_OTLP_ENDPOINT: setting(optionalUrl(), 'OpenTelemetry: the OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; traces go to `/v1/traces` under it.', {
      example: 'http://otel-collector.internal.example.com:4318',
      note: 'Unset: tracing is off and costs nothing.',
    }),
    OTEL_SERVICE_NAME: setting(z.string().min(1).max(100).default('account-dating-gateway'), '`service.name` of the spans.'),
    LOG_REPEATED_WARNINGS_WINDOW_MS: setting(int(10_000, 100, 3_600_000), 'Warnings that repeat are written once per window, then counted into one line at its end, in milliseconds.', {
      note: 'Such as an upstream call failing the same way, or calls refused by an open circuit: "upstream call timed out, 41 more times in the last 10 s".',
    }),
    REDIS_KEY_PREFIX: setting(z.string().min(1).max(100).default('gateway:'), 'Prefix of every Redis key and pub/sub channel the gateway uses (several gateways on one Redis).'),
  },
);
