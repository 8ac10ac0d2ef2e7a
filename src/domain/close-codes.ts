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
  /** The gateway is shutting down: every subscription was completed first. */
  goingAway: 1001,
  /** The Account API could not check the session; the client may retry. */
  tryAgainLater: 1013,
} as const;
