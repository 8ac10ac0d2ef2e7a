import { GraphQLError } from 'graphql';
import type { DomainOutcome } from './outcomes.js';

/**
 * Failures of a request (shared/API.md "Failures of the request"). Each is a
 * GraphQLError with a stable `name` and `extensions.code`, so yoga passes it
 * through unmasked while anything else is masked. Messages are fixed texts:
 * never an upstream body, a stack or a secret.
 */
export type RequestErrorCode =
  | 'UNAUTHENTICATED'
  | 'BAD_USER_INPUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'RATE_LIMITED'
  | 'LIMITS_UNAVAILABLE'
  | 'PERSISTED_QUERY_ONLY'
  | 'PERSISTED_QUERY_NOT_FOUND';

export abstract class RequestError extends GraphQLError {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class Unauthenticated extends RequestError {
  override readonly name = 'Unauthenticated';
  constructor(message = 'Sign in first: this needs a valid session.', extensions?: Record<string, unknown>) {
    super('UNAUTHENTICATED', message, extensions);
  }
}

/** The Account API answered `user/get` for the session with `outcome` instead of its user (userOfSession). */
export class SessionRefused extends Unauthenticated {
  constructor(readonly outcome: DomainOutcome) {
    super(outcome.message, { reason: outcome.constructor.name });
  }
}

export class BadUserInput extends RequestError {
  override readonly name = 'BadUserInput';
  constructor(message: string, extensions?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, extensions);
  }
}

/**
 * The upstream is unreachable, answered 5xx or something off-contract. The
 * subclasses below name each failure with its typed facts (`errno`,
 * `status`, `retryAfterSeconds`): code tells failures apart by class and
 * those fields; `reason` is for the log only, never read by code.
 */
export class UpstreamUnavailable extends RequestError {
  override readonly name: string = 'UpstreamUnavailable';
  constructor(readonly upstream: string, readonly reason: string, extensions: Record<string, unknown> = {}) {
    super('UPSTREAM_UNAVAILABLE', `The ${upstream} is unavailable. Try again later.`, { ...extensions, upstream });
  }
}

/** The call failed in transport (refused, reset, unresolvable host): `errno` is the system's code, e.g. `ECONNREFUSED`. */
export class UpstreamUnreachable extends UpstreamUnavailable {
  override readonly name = 'UpstreamUnreachable';
  constructor(upstream: string, readonly errno: string) {
    super(upstream, errno);
  }
}

/** The upstream answered `status` with a whole body that is not JSON. */
export class UpstreamAnswerNotJson extends UpstreamUnavailable {
  override readonly name = 'UpstreamAnswerNotJson';
  constructor(upstream: string, readonly status: number) {
    super(upstream, `HTTP ${status} with a body that is not JSON`);
  }
}

/** The upstream's answer (status `status`) was larger than UPSTREAM_MAX_BODY_BYTES; it was cut off unread. */
export class UpstreamAnswerTooLarge extends UpstreamUnavailable {
  override readonly name = 'UpstreamAnswerTooLarge';
  constructor(upstream: string, readonly status: number) {
    super(upstream, 'body too large');
  }
}

/** The upstream answered `status` with a readable body that does not fit its contract (the reason says where). */
export class UpstreamAnswerOffContract extends UpstreamUnavailable {
  override readonly name: string = 'UpstreamAnswerOffContract';
  constructor(upstream: string, reason: string, readonly status: number) {
    super(upstream, reason);
  }
}

/**
 * A dating site answered with a status that is its problem or the gateway's
 * configuration, not the user's (401, 402, 405, 5xx, anything undocumented).
 * No user was created. The client sees UPSTREAM_UNAVAILABLE.
 */
export class DatingSiteFailed extends UpstreamUnavailable {
  override readonly name = 'DatingSiteFailed';
  constructor(upstream: string, readonly status: number) {
    super(upstream, `HTTP ${status}`);
  }
}

/** A dating site answered, but not as the contract says. After a 2xx the user may exist. */
export class DatingAnswerOffContract extends UpstreamAnswerOffContract {
  override readonly name = 'DatingAnswerOffContract';
}

/**
 * The gateway held the call back and sent nothing (one subclass per cause
 * below). The client may try again after `retryAfterSeconds`.
 */
export abstract class UpstreamHeldBack extends UpstreamUnavailable {
  constructor(upstream: string, reason: string, readonly retryAfterSeconds: number) {
    super(upstream, reason, { retryAfterSeconds });
  }
}

/** The upstream's circuit is open (a run of failures) or its one trial call runs. */
export class UpstreamCircuitOpen extends UpstreamHeldBack {
  override readonly name = 'UpstreamCircuitOpen';
  constructor(upstream: string, retryAfterSeconds: number) {
    super(upstream, 'circuit open', retryAfterSeconds);
  }
}

/** Too many calls wait for a connection to the upstream (UPSTREAM_MAX_QUEUE): this one is shed. */
export class UpstreamQueueFull extends UpstreamHeldBack {
  override readonly name = 'UpstreamQueueFull';
  constructor(upstream: string) {
    super(upstream, 'queue full', 1);
  }
}

/** The call ran out of UPSTREAM_TIMEOUT_MS (the wait for a connection included). */
export class UpstreamTimeout extends RequestError {
  override readonly name: string = 'UpstreamTimeout';
  constructor(readonly upstream: string) {
    super('UPSTREAM_TIMEOUT', `The ${upstream} did not answer in time. Try again later.`, { upstream });
  }
}

/** The operation's deadline (REQUEST_TIMEOUT_MS) passed, before the call was made (`sent` false) or while it ran. */
export class UpstreamDeadlinePassed extends UpstreamTimeout {
  override readonly name = 'UpstreamDeadlinePassed';
  constructor(upstream: string, readonly sent: boolean) {
    super(upstream);
  }
}

export class RateLimited extends RequestError {
  override readonly name = 'RateLimited';
  constructor(readonly retryAfterSeconds: number, message = 'Too many requests. Try again later.') {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}

/**
 * A limit that must not fail open (code and password attempts, codes sent,
 * password recovery) cannot count now, because Redis fails or, without
 * Redis, every in-memory count is live (MEMORY_LIMITS_MAX_KEYS): nothing was
 * tried upstream; retry after `retryAfterSeconds`.
 */
export class LimitsUnavailable extends RequestError {
  override readonly name = 'LimitsUnavailable';
  constructor(
    readonly retryAfterSeconds: number,
    message = `Sign-in and code checks are unavailable for a moment. Try again in ${retryAfterSeconds} seconds.`,
  ) {
    super('LIMITS_UNAVAILABLE', message, { retryAfterSeconds });
  }
}

/** TRUSTED_DOCUMENTS is on and the request sent a query (or nothing) instead of a manifest hash. */
export class PersistedQueryOnly extends RequestError {
  override readonly name = 'PersistedQueryOnly';
  constructor() {
    super(
      'PERSISTED_QUERY_ONLY',
      'This gateway runs trusted documents only: send the hash of a document of its manifest as extensions.persistedQuery.sha256Hash or documentId, not a query.',
    );
  }
}

/** TRUSTED_DOCUMENTS is on and the hash is not in the manifest. */
export class PersistedQueryNotFound extends RequestError {
  override readonly name = 'PersistedQueryNotFound';
  constructor() {
    super('PERSISTED_QUERY_NOT_FOUND', "Unknown document: this hash is not one of the gateway's trusted documents.");
  }
}
