import type { z } from 'zod';
import { DomainOutcome } from '../domain/outcomes.js';
import { countAuthAttempt, type GatewayContext } from './context.js';
import { validate } from './validation.js';

export interface MutationSteps<S extends z.ZodType, R, P> {
  /** Count a sign-in or code attempt of the caller's address first (AUTH_ATTEMPTS_PER_MINUTE). */
  countsAttempt?: boolean;
  /** The input's rules; every bad field is answered at once, before any upstream call. */
  input: S;
  /** The upstream call: its success value or one of its domain outcomes. */
  call: (input: z.output<S>) => Promise<R>;
  /** The payload's success member, made from the call's success. */
  success: (result: Exclude<R, DomainOutcome>, input: z.output<S>) => P | Promise<P>;
}

/**
 * The skeleton of most mutations: (count the attempt,) validate, call, and
 * answer the call's domain outcome as is or a new success object. Bad input
 * is a thrown ValidationError, answered as data by the payload union
 * (plugin-errors); request errors (UNAUTHENTICATED, RATE_LIMITED, upstream
 * failures) are thrown too and stay errors.
 */
export async function runMutation<S extends z.ZodType, R, P>(
  ctx: GatewayContext,
  rawInput: unknown,
  steps: MutationSteps<S, R, P>,
): Promise<Extract<R, DomainOutcome> | P> {
  if (steps.countsAttempt) await countAuthAttempt(ctx);
  const input = validate(steps.input, rawInput);
  const result = await steps.call(input);
  if (result instanceof DomainOutcome) return result as Extract<R, DomainOutcome>;
  return steps.success(result as Exclude<R, DomainOutcome>, input);
}
