/**
 * Every websocket close code the gateway sends or reads, in one table. The
 * graphql-ws sockets of clients use all of them, besides graphql-ws's own
 * (4400 bad message, 4408 no `connection_init` in time, 4409 duplicate id,
 * 4429 second `connection_init`); the Account API's push socket closes with
 * `sessionEnded` after `session.expired` (shared/UPSTREAM.md §1).
 */
export const CLOSE = {
  /** No session, an unknown or ended one, or the session ended while connected (after SessionExpired). Upstream: the push socket's session ended. */
  sessionEnded: 4403,
  /** More operations at once than SUBSCRIPTIONS_MAX_PER_CONNECTION. */
  tooManyOperations: 1008,
  /** A message larger than SUBSCRIPTIONS_MAX_MESSAGE_BYTES (sent by `ws` itself). */
  messageTooBig: 1009,
  /**
   * The gateway is shutting down (a deploy): no subscription was completed;
   * reconnect (to another instance) and resubscribe with `after` = the last
   * event id received. graphql-ws clients retry it.
   */
  serviceRestart: 1012,
  /** The Account API could not check the session, or the check waited past SUBSCRIPTIONS_ADMISSION_DEADLINE_MS; retry with backoff. */
  tryAgainLater: 1013,
} as const;
