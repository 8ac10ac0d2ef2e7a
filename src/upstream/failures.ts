import { errors as undiciErrors } from 'undici';
import {
  UpstreamAnswerNotJson,
  UpstreamAnswerTooLarge,
  UpstreamCircuitOpen,
  UpstreamDeadlinePassed,
  UpstreamHeldBack,
  UpstreamTimeout,
  UpstreamUnavailable,
  UpstreamUnreachable,
} from '../domain/errors.js';

/**
 * What a failed upstream call means: the typed error a transport failure
 * becomes, whether it says the upstream is in trouble, what an observer is told.
 */

/**
 * Whether a failure says the upstream is in trouble: a refused or broken
 * connection, a 5xx it answered with an unreadable body, or a call that ran
 * out of UPSTREAM_TIMEOUT_MS. Such failures count against its circuit, and
 * an idempotent call may be retried after one. An answer off contract, the
 * operation's deadline or the gateway holding a call back say nothing about it.
 */
export function upstreamInTrouble(error: unknown): boolean {
  if (error instanceof UpstreamUnreachable) return true;
  if (error instanceof UpstreamAnswerNotJson || error instanceof UpstreamAnswerTooLarge) return error.status >= 500;
  return error instanceof UpstreamTimeout && !(error instanceof UpstreamDeadlinePassed);
}

/** A failed call of `upstream` as one of the typed errors: undici's timeouts are UpstreamTimeout, a system error code UpstreamUnreachable. */
export function typedFailure(upstream: string, error: unknown): UpstreamUnavailable | UpstreamTimeout {
  if (error instanceof UpstreamUnavailable || error instanceof UpstreamTimeout) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
    return new UpstreamTimeout(upstream);
  }
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? new UpstreamUnreachable(upstream, code) : new UpstreamUnavailable(upstream, 'transport error');
}

/** What an observer is told of a failed attempt. */
export function failureKind(error: Error): 'timeout' | 'unavailable' | 'circuit_open' | 'shed' {
  if (error instanceof UpstreamHeldBack) return error instanceof UpstreamCircuitOpen ? 'circuit_open' : 'shed';
  if (error instanceof UpstreamTimeout) return 'timeout';
  return 'unavailable';
}
