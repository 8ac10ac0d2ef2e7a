import { z } from 'zod';
import { group, int, optionalUrl, setting } from './declare.js';
import { FIXED } from './retired.js';
import { corsOrigins, datingSites, optionalRedisUrl, trustedProxies } from './values.js';

/** What every deployment sets: the mode, the upstreams, shared state, the listening address, who may call, the log. */
export const essentials = group(
  'Essentials',
  'What every deployment sets, or at least decides on. The rest of the settings have defaults that suit most deployments.',
  {
    NODE_ENV: setting(z.string().default('development'), '`production` for a real deployment: no bundled emulators, and GraphiQL, introspection and field suggestions off by default.', {
      example: 'production',
      note:
        'In production the gateway refuses to start without `ACCOUNT_API_URL` and `DATING_SITES`: it exits at once with one line naming what is missing, and listens on nothing. ' +
        'Any other value (`development`, `test`, `staging`) starts the bundled emulators for an upstream that is not set, and leaves GraphiQL, introspection and field suggestions on. ' +
        'Each of those has its own setting ([`EMULATORS`](#emulators), [`GRAPHIQL`](#graphiql), [`INTROSPECTION`](#introspection), [`FIELD_SUGGESTIONS`](#field_suggestions)) that overrides the mode.',
    }),
    ACCOUNT_API_URL: setting(optionalUrl(), 'Base URL of the Account API.', {
      example: 'https://account-api.internal.example.com',
      note: 'Unset outside production: the bundled Account API emulator starts in the gateway process (see [`EMULATORS`](#emulators)).',
    }),
    DATING_SITES: setting(datingSites(), 'The dating sites, as a JSON array of `{ id, name, baseUrl, apiKey, affiseAffiliateId? }`.', {
      example: '[{"id":"wellhello","name":"WellHello","baseUrl":"https://wellhello.example.com","apiKey":"replace-with-the-site-key"}]',
      note:
        'Ids are unique (clients pick a site by its id), URLs http(s) (`v2/api/user` is appended to `baseUrl`), keys non-empty. ' +
        'Each `apiKey` is sent verbatim as `Authorization` to its site; it never reaches a response, an error, a log line or GraphiQL. ' +
        '`affiseAffiliateId` is sent only when set. Unset outside production: the bundled Dating API emulator starts with its two demo sites.',
    }),
    REDIS_URL: setting(optionalRedisUrl(), 'Redis (`redis://` or `rediss://`) for the state that gateway instances share; set it when more than one instance runs.', {
      example: 'redis://redis.internal.example.com:6379/0',
      note:
        'It holds the `joinDating` idempotency keys, the rate limits (per address: `AUTH_ATTEMPTS_PER_MINUTE`, `DATING_ANONYMOUS_PER_MINUTE`; per account: code and password attempts, codes sent), ' +
        'password recovery flows, and `accountEvents`: each user\'s event log (Streams, for `after`) and the pub/sub that brings it to every instance. ' +
        `Unset: all of it is kept in this process's memory. A Redis command that takes over ${FIXED.REDIS_COMMAND_TIMEOUT_MS} ms fails.`,
    }),
    PORT: setting(int(4000, 0, 65535), 'Port of the GraphQL endpoint: HTTP, graphql-ws and SSE on `/graphql`, plus `/health` and `/readiness`. `0` picks a free port.', {
      example: '4000',
    }),
    HOST: setting(z.string().min(1).default('0.0.0.0'), 'Interface the GraphQL endpoint listens on.', {
      example: '0.0.0.0',
      note: `The kernel queues up to ${FIXED.LISTEN_BACKLOG} connections (capped by \`net.core.somaxconn\`) before the gateway accepts them, so a reconnect storm after a deploy is not reset.`,
    }),
    CORS_ORIGINS: setting(corsOrigins(), 'Origins (`https://app.example.com`, comma-separated) that browsers may call the gateway from, over HTTP (CORS) and graphql-ws.', {
      example: 'https://app.example.com',
      note: 'Empty: nothing cross-origin. The gateway\'s own origin (GraphiQL) always works.',
    }),
    TRUSTED_PROXIES: setting(trustedProxies(), 'Proxies whose `X-Forwarded-For` and `x-request-id` are believed: comma-separated IPs and CIDR ranges, e.g. `127.0.0.1,10.0.0.0/8`.', {
      example: '10.0.0.0/8',
      shownDefault: 'empty',
      note: 'Empty: the socket\'s address is the client\'s. The per-address limits count the client address this gives; behind a load balancer that is not listed here, every client shares the balancer\'s address.',
    }),
    LOG_LEVEL: setting(z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'), 'Log level: `debug`, `info`, `warn`, `error` or `silent`.', {
      example: 'info',
      note: 'The log is JSON lines on stdout (pretty on a terminal). No line ever holds a Dating API key, a password, a code or a session token.',
    }),
  },
);
