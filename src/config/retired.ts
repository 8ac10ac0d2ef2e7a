/**
 * Settings that are no longer read from the environment, because no operator
 * had a reason to turn them: their values are fixed here, or follow another
 * setting. They keep their keys in `Config`, so the code that reads them is
 * unchanged. Setting one logs a warning at start (src/main.ts).
 */
export const FIXED = {
  LISTEN_BACKLOG: 4096,
  UPSTREAM_RETRY_BACKOFF_MS: 50,
  UPSTREAM_PUSH_OPENS_PER_SECOND: 250,
  SUBSCRIPTIONS_RETENTION_MAX_EVENTS: 1000,
  SUBSCRIPTIONS_ADMISSION_QUEUE: 20_000,
  CODE_ATTEMPTS_WINDOW_SECONDS: 900,
  PASSWORD_ATTEMPTS_WINDOW_SECONDS: 900,
  PASSWORD_RECOVERY_TTL_SECONDS: 3600,
  REDIS_COMMAND_TIMEOUT_MS: 500,
};

/** Each retired variable and what replaces it (docs/configuration.md, the start-up warning). */
export const RETIRED: Readonly<Record<string, string>> = {
  LISTEN_BACKLOG: `fixed at ${FIXED.LISTEN_BACKLOG} queued connections (capped by net.core.somaxconn)`,
  UPSTREAM_RETRY_BACKOFF_MS: `fixed: the retries of a read back off exponentially from about ${FIXED.UPSTREAM_RETRY_BACKOFF_MS} ms (UPSTREAM_READ_RETRIES still sets how many)`,
  UPSTREAM_PUSH_OPENS_PER_SECOND: `fixed at ${FIXED.UPSTREAM_PUSH_OPENS_PER_SECOND} push sockets opened per second`,
  SUBSCRIPTIONS_DEDUPE_WINDOW_SECONDS: 'follows SUBSCRIPTIONS_RETENTION_SECONDS: an upstream event id is remembered that long (300 s at least), so each event is kept once',
  SUBSCRIPTIONS_RETENTION_MAX_EVENTS: `fixed at ${FIXED.SUBSCRIPTIONS_RETENTION_MAX_EVENTS} events per user (SUBSCRIPTIONS_RETENTION_SECONDS still bounds them in time)`,
  SUBSCRIPTIONS_ADMISSION_QUEUE: `fixed at ${FIXED.SUBSCRIPTIONS_ADMISSION_QUEUE} waiting session checks (SUBSCRIPTIONS_ADMISSION_DEADLINE_MS still bounds the wait)`,
  SUBSCRIPTIONS_MAX_MESSAGE_BYTES: 'follows REQUEST_MAX_BODY_BYTES: a graphql-ws message is bounded as a request body is',
  CODE_ATTEMPTS_WINDOW_SECONDS: `fixed at ${FIXED.CODE_ATTEMPTS_WINDOW_SECONDS / 60} minutes (CODE_ATTEMPTS_PER_TARGET still sets the count)`,
  PASSWORD_ATTEMPTS_WINDOW_SECONDS: `fixed at ${FIXED.PASSWORD_ATTEMPTS_WINDOW_SECONDS / 60} minutes (PASSWORD_ATTEMPTS_PER_LOGIN still sets the count)`,
  PASSWORD_RECOVERY_TTL_SECONDS: `fixed: a recoveryToken stays usable ${FIXED.PASSWORD_RECOVERY_TTL_SECONDS / 60} minutes`,
  REDIS_COMMAND_TIMEOUT_MS: `fixed: a Redis command that takes over ${FIXED.REDIS_COMMAND_TIMEOUT_MS} ms fails`,
};

/** One warning line per retired variable set in `env`. */
export function retiredIn(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(RETIRED)
    .filter((name) => env[name] !== undefined)
    .map((name) => `${name} is no longer read: ${RETIRED[name]}`);
}
