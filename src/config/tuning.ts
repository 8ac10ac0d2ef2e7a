import { FIXED } from './retired.js';
import { group, int, setting } from './declare.js';

/** How the gateway treats its upstreams: timeouts, pools, circuits, retries. */
export const upstream = group(
  'Upstream tuning',
  'How the gateway calls the Account API and the dating sites. Each of them (each dating site apart) has its own connection pool and its own circuit.',
  {
    UPSTREAM_TIMEOUT_MS: setting(int(5000, 100, 120_000), 'Limit of one upstream call, in milliseconds, from the moment it is made (the wait for a pool connection included) to the last byte of the answer.', {
      note: 'Past it: `UPSTREAM_TIMEOUT`. Inside a GraphQL operation the operation\'s own deadline, `REQUEST_TIMEOUT_MS`, may end it sooner.',
    }),
    UPSTREAM_CONNECTIONS: setting(int(32, 1, 1024), 'Connections kept open to each upstream origin.'),
    UPSTREAM_MAX_QUEUE: setting(int(256, 0, 1_000_000), 'Calls that may wait for a free connection to one upstream origin, beyond the `UPSTREAM_CONNECTIONS` running.', {
      note: 'One more is refused at once with `UPSTREAM_UNAVAILABLE` (`retryAfterSeconds` 1): shedding load is no failure of the upstream.',
    }),
    UPSTREAM_MAX_BODY_BYTES: setting(int(1_048_576, 1024, 64 * 1_048_576), 'Largest upstream answer body accepted, in bytes; a larger one is `UPSTREAM_UNAVAILABLE`.'),
    UPSTREAM_BREAKER_FAILURES: setting(int(5, 1, 10_000), 'Failures in a row that open an upstream\'s circuit: 5xx, refused or broken connections, calls that ran out of `UPSTREAM_TIMEOUT_MS`.'),
    UPSTREAM_BREAKER_HALF_OPEN_MS: setting(int(10_000, 100, 600_000), 'How long an open circuit answers `UPSTREAM_UNAVAILABLE` at once (with `retryAfterSeconds`) before it lets one trial call through, in milliseconds.', {
      note: 'The trial\'s success closes the circuit; its failure opens it again. While the Account API\'s circuit is open, `/readiness` answers 503.',
    }),
    UPSTREAM_READ_RETRIES: setting(int(2, 0, 2), 'Retries of the Account API\'s idempotent reads (`user/get`, `user/settings/get`, `user/products/get`).', {
      note:
        `After a 5xx, a refused or broken connection, or a timeout, while the operation's \`REQUEST_TIMEOUT_MS\` leaves time. The retries back off exponentially, with jitter, from about ${FIXED.UPSTREAM_RETRY_BACKOFF_MS} ms. ` +
        'Nothing that creates or changes something, and no Dating API call, is ever retried.',
    }),
  },
);

/** Subscriptions: graphql-ws, SSE, the upstream push socket and the event log behind `accountEvents`. */
export const subscriptions = group(
  'Subscriptions tuning',
  'graphql-ws and SSE clients, the push socket to the Account API behind `accountEvents`, and the event log that lets a client resume with `after`.',
  {
    SUBSCRIPTIONS_CONNECTION_INIT_TIMEOUT_MS: setting(int(3000, 100, 60_000), 'How long a new graphql-ws socket may stay silent before `connection_init`, in milliseconds; then it is closed with 4408.'),
    SUBSCRIPTIONS_MAX_PER_CONNECTION: setting(int(100, 1, 10_000), 'Operations running at once on one graphql-ws socket; one more closes the socket with 1008.'),
    SUBSCRIPTIONS_MAX_SOCKETS_PER_ADDRESS: setting(int(100, 0, 1_000_000), 'Open graphql-ws sockets per client address (IPv6 per /64); one more is refused with 429. `0`: no cap.'),
    SUBSCRIPTIONS_KEEPALIVE_MS: setting(int(12_000, 0, 600_000), 'Interval of the server\'s pings on graphql-ws sockets and of the heartbeat of multipart HTTP subscriptions, in milliseconds. `0` disables.', {
      note: 'A graphql-ws socket that misses a pong is terminated.',
    }),
    SUBSCRIPTIONS_SSE_PENDING_STREAMS: setting(int(1000, 1, 1_000_000), 'graphql-sse single connection mode: streams reserved (`PUT`) and not yet opened, at most; one more is refused with 503.'),
    SUBSCRIPTIONS_SSE_RESERVATION_TIMEOUT_MS: setting(int(10_000, 100, 600_000), 'graphql-sse single connection mode: a reserved stream not opened within this long is dropped, in milliseconds.'),
    SUBSCRIPTIONS_BUFFER_SIZE: setting(int(100, 1, 100_000), 'Events buffered per subscription while its client is slow to take them; beyond it the oldest is dropped and a warning logged.'),
    SUBSCRIPTIONS_RETENTION_SECONDS: setting(int(300, 10, 86_400), 'How long each user\'s account events are kept for `accountEvents(after:)` to replay, on any instance; an older `after` gets `EventsMissed`.', {
      note:
        `Kept in Redis Streams with \`REDIS_URL\`, else in memory; at most ${FIXED.SUBSCRIPTIONS_RETENTION_MAX_EVENTS} events per user (oldest first out). The default is the upstream's own resume buffer. ` +
        'Each upstream event id is remembered as long (5 minutes at least), so that an event is kept once, whichever instances relay it and however often the upstream replays it.',
    }),
    SUBSCRIPTIONS_SESSION_CHECK_SECONDS: setting(int(300, 0, 86_400), 'How often the sessions of live subscriptions are checked again with the Account API, in seconds. `0` disables.', {
      note: 'The upstream push socket reports the end of one session only.',
    }),
    SUBSCRIPTIONS_SESSION_FRESH_MS: setting(int(2000, 0, 60_000), 'A session check this recent is reused by further sockets and subscriptions of the same session, in milliseconds. `0`: every one asks the Account API.', {
      note: 'Such as the subscribes after a socket\'s `connection_init`, or a reconnect storm. A session known to have ended is never reused.',
    }),
    SUBSCRIPTIONS_ADMISSION_CONCURRENCY: setting(int(16, 1, 1024), 'Session checks and push-ticket requests of subscriptions running at once (a share of `UPSTREAM_CONNECTIONS`).', {
      note: `Up to ${FIXED.SUBSCRIPTIONS_ADMISSION_QUEUE} more wait for their turn; beyond that they are refused at once (1013).`,
    }),
    SUBSCRIPTIONS_ADMISSION_DEADLINE_MS: setting(int(10_000, 10, 300_000), 'How long a session check or ticket request may wait for its turn, in milliseconds.', {
      note: 'Past it a socket is closed with 1013 (a subscription gets `UPSTREAM_UNAVAILABLE`). A check that has started is waited for.',
    }),
    UPSTREAM_PUSH_HEARTBEAT_MS: setting(int(45_000, 50, 600_000), 'The Account API push socket is taken for dead after this long without a frame or a ping, and reopened, in milliseconds.', {
      note: `The Account API pings every 30 s. Push sockets are opened at ${FIXED.UPSTREAM_PUSH_OPENS_PER_SECOND} per second at most, at a steady pace: a reconnect storm reaches the upstream as a stream, and each relay catches up with \`resume_after\`.`,
    }),
    UPSTREAM_PUSH_RECONNECT_MIN_MS: setting(int(250, 1, 60_000), 'First delay before reopening a lost push socket, in milliseconds; it doubles per failure, with jitter.'),
    UPSTREAM_PUSH_RECONNECT_MAX_MS: setting(int(15_000, 1, 600_000), 'Longest delay before reopening a lost push socket, in milliseconds.'),
  },
);
