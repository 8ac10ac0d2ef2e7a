import { FIXED } from './retired.js';
import { bool, group, int, setting } from './declare.js';

/** The rate limits that keep sign-in, codes and sign-ups from abuse. */
export const abuse = group(
  'Abuse limits',
  'Rate limits on sign-in, codes and sign-ups, kept in Redis with `REDIS_URL` (shared by every instance), else in memory. Past one the answer is `RATE_LIMITED` with `retryAfterSeconds`. Client addresses are counted per IPv6 /64.',
  {
    AUTH_ATTEMPTS_PER_MINUTE: setting(int(20, 1, 100_000), 'Sign-in and code attempts per client address and minute.', {
      note: 'Counted: login, register, verifyRegistration, resendCode, password recovery, confirmContactChange, confirmAccountDeletion.',
    }),
    CODE_ATTEMPTS_PER_TARGET: setting(int(5, 1, 1000), `Code attempts per user or login in ${FIXED.CODE_ATTEMPTS_WINDOW_SECONDS / 60} minutes, from any address.`, {
      note: 'Counted: verifyRegistration, completePasswordRecovery, confirmContactChange, confirmAccountDeletion.',
    }),
    PASSWORD_ATTEMPTS_PER_LOGIN: setting(int(10, 1, 1000), `Wrong passwords per login in ${FIXED.PASSWORD_ATTEMPTS_WINDOW_SECONDS / 60} minutes, from any address; a success resets the count.`),
    CODE_SEND_INTERVAL_SECONDS: setting(int(90, 0, 86_400), 'Least time between two codes to one destination for one purpose, in seconds (the Account API\'s own rhythm).', {
      note: '`0` leaves the rhythm to the Account API alone, which keeps it for `resendCode` only.',
    }),
    CODE_SENDS_PER_DAY: setting(int(10, 1, 10_000), 'Codes sent to one destination for one purpose per day, asked from one client address.', {
      note: 'So one attacker cannot use up a victim\'s codes for the day.',
    }),
    CODE_SENDS_PER_DAY_PER_DESTINATION: setting(int(50, 1, 100_000), 'Codes sent to one destination for one purpose per day, from all addresses together.'),
    DATING_ANONYMOUS_PER_MINUTE: setting(int(5, 1, 10_000), 'Anonymous `createDatingUser` calls per client address and minute (with `DATING_ANONYMOUS_SIGNUPS`).'),
    MEMORY_LIMITS_MAX_KEYS: setting(int(100_000, 10, 10_000_000), 'Entries each in-memory limit keeps: addresses, accounts or destinations counted at once, and password recoveries in flight.', {
      note:
        'Used without `REDIS_URL`, and for the general limits while Redis fails; expired entries are reclaimed first. ' +
        'When all are live, the limits that fail closed (code and password attempts, codes sent, password recovery) refuse a new one with `LIMITS_UNAVAILABLE` rather than forget a live count; general limits drop their oldest count.',
    }),
  },
);

/** The bounds of one request and one operation. */
export const requests = group(
  'Requests and operations',
  'How much one request and one GraphQL operation may ask and take, and how long a `joinDating` answer is kept for its retries. An operation past one of the `OPERATION_MAX_*` limits is refused before it runs.',
  {
    REQUEST_TIMEOUT_MS: setting(int(10_000, 100, 600_000), 'Deadline of one GraphQL operation (or the start of a subscription), shared by all of its upstream calls, in milliseconds.', {
      note: 'Past it the answer is `UPSTREAM_TIMEOUT` and the calls still running are aborted.',
    }),
    REQUEST_MAX_BODY_BYTES: setting(int(65_536, 1024, 64 * 1_048_576), 'Largest request body, and largest graphql-ws message from a client, in bytes.', {
      note: 'A body is counted while it streams (a wrong or missing `Content-Length` does not help): past it, 413 before any parsing. A larger graphql-ws message closes the socket with 1009.',
    }),
    OPERATION_MAX_DEPTH: setting(int(10, 2, 100), 'Deepest nesting of fields in one operation (introspection aside).'),
    OPERATION_MAX_ALIASES: setting(int(30, 0, 10_000), 'Aliased fields in one operation, `__typename` included, through its fragments.'),
    OPERATION_MAX_MUTATIONS: setting(int(5, 1, 100), 'Root fields of one mutation operation.'),
    OPERATION_MAX_TOKENS: setting(int(2000, 50, 1_000_000), 'Lexical tokens of one document, counted while parsing; the parse stops past it.'),
    OPERATION_MAX_DIRECTIVES: setting(int(20, 0, 10_000), 'Directives in one operation, through its fragments.'),
    OPERATION_MAX_COST: setting(int(2000, 10, 10_000_000), 'Cost of one operation, as GraphQL Armor counts it.', {
      note: '1 per leaf, 2 per object field, times 1.5 per level, each fragment spread counted. The largest operation of `schema/operations/` costs about 160.',
    }),
    DOCUMENT_CACHE_MAX_BYTES: setting(int(32 * 1_048_576, 0, 4096 * 1_048_576), 'Memory for parsed documents and their parse errors, reused across requests, in estimated bytes (least recently used evicted first). `0`: no cache.'),
    IDEMPOTENCY_TTL_SECONDS: setting(int(86_400, 60, 30 * 86_400), 'How long the outcome of a `joinDating` idempotency key is kept, in seconds: a retry with the same key within it gets the same answer.'),
    JSON_LANE: setting(bool(true), 'Plain JSON POSTs take the lean lane: the same plugins and answers as yoga\'s own path, at less CPU per request.', {
      note: '`false` sends every request through yoga\'s fetch layer (src/transport/json-lane.ts is the lane).',
    }),
  },
);
