import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { RateLimited } from '../domain/errors.js';
import { CodeCooldown, DomainOutcome, InvalidCode, type Channel } from '../domain/outcomes.js';
import { loginKey } from '../infra/account-limits.js';
import type { Deadline } from '../infra/deadline.js';
import type { RecoveryFlow } from '../infra/recovery-store.js';
import type { Services } from '../services.js';

/**
 * Password recovery that tells nobody whether a login exists.
 *
 * `startPasswordRecovery` answers at once, before the Account API is asked,
 * with the same answer for every well-formed login: a `recoveryToken` of the
 * gateway's own (32 random bytes; never the upstream's token) and the
 * channel the login names (an email gets the code by email, a phone by SMS,
 * as the Account API does). The `user/auth/recovery` call runs after the
 * answer, and its outcome is kept under the token (RecoveryStore): the
 * upstream token, or "no such login". So content and timing are the same
 * whether the login exists or not; only the code's arrival differs, and
 * only the owner of the email or phone sees it.
 *
 * `completePasswordRecovery` and `resendCode(PASSWORD_RECOVERY)` look the
 * token up (waiting if the upstream call is still out). For a login that
 * does not exist they make the same kind of upstream call with a random
 * token, so they too take an upstream round trip and answer like a wrong
 * code (InvalidCode) or a sent code.
 */
export type RecoveryServices = Pick<Services, 'account' | 'accountLimits' | 'recoveryStore' | 'logger'> & {
  config: Pick<Config, 'PASSWORD_RECOVERY_TTL_SECONDS' | 'UPSTREAM_TIMEOUT_MS'>;
  /** The client's address: the daily cap of codes counts per destination and address block. */
  clientIp: string;
  /** The operation's deadline; the `user/auth/recovery` call, which runs after the answer, goes without. */
  deadline?: Deadline;
};

/** RATE_LIMITED when a code went to this login less than the interval ago, or too many today (from this address block, or from all). */
export async function startRecovery(services: RecoveryServices, login: string): Promise<{ recoveryToken: string; codeSentTo: Channel }> {
  const wait = await services.accountLimits.codeSend('recovery', [login], services.clientIp);
  if (wait > 0) throw new RateLimited(wait, 'A code was sent to this login recently. Try again later.');
  const recoveryToken = randomBytes(32).toString('base64url');
  await services.recoveryStore.set(recoveryToken, { login, state: 'pending' }, services.config.PASSWORD_RECOVERY_TTL_SECONDS);
  void askUpstream(services, recoveryToken, login);
  return { recoveryToken, codeSentTo: login.includes('@') ? 'EMAIL' : 'PHONE' };
}

/** The new session, or InvalidCode (wrong code, unknown or expired token, or no such login). */
export async function completeRecovery(services: RecoveryServices, recoveryToken: string, code: string, newPassword: string) {
  const flow = await settled(services, recoveryToken);
  if (!flow) return new InvalidCode();
  // Per login, from any address and through any of its tokens (CODE_ATTEMPTS_PER_TARGET).
  await services.accountLimits.codeAttempt(loginKey(flow.login));
  const result = await services.account.completeRecovery(flow.upstreamToken ?? decoyToken(), code, newPassword, services.deadline);
  if (result instanceof DomainOutcome) return flow.upstreamToken ? result : new InvalidCode();
  // The password is set: a failing delete (Redis down) only leaves a token that no longer works upstream.
  await Promise.all([services.recoveryStore.delete(recoveryToken).catch(() => undefined), services.accountLimits.codeAccepted(loginKey(flow.login))]);
  return result;
}

/**
 * A new code for the token's login: true when it went (or would have, for
 * no such login), CodeCooldown when too soon, null for an unknown or
 * expired token (the gateway's own: it says nothing about the login).
 */
export async function resendRecoveryCode(services: RecoveryServices, recoveryToken: string): Promise<true | CodeCooldown | null> {
  const flow = await settled(services, recoveryToken);
  if (!flow) return null;
  const wait = await services.accountLimits.codeSend('recovery', [flow.login], services.clientIp);
  if (wait > 0) return new CodeCooldown(wait);
  if (!flow.upstreamToken) {
    await services.account.resendCode({ recoveryToken: decoyToken() }, services.deadline).catch(() => undefined);
    return true;
  }
  const result = await services.account.resendCode({ recoveryToken: flow.upstreamToken }, services.deadline);
  // AlreadyVerified does not apply to recovery codes.
  return result instanceof CodeCooldown ? result : true;
}

async function askUpstream(services: RecoveryServices, recoveryToken: string, login: string): Promise<void> {
  let flow: RecoveryFlow;
  try {
    // No deadline: this runs after the answer went out, bounded by UPSTREAM_TIMEOUT_MS.
    const result = await services.account.startRecovery(login);
    flow = result instanceof DomainOutcome ? { login, state: 'none' } : { login, state: 'sent', upstreamToken: result.token };
  } catch (error) {
    services.logger.warn('password recovery: the Account API call failed', { error: (error as Error).name });
    flow = { login, state: 'failed' };
  }
  await services.recoveryStore.set(recoveryToken, flow, services.config.PASSWORD_RECOVERY_TTL_SECONDS).catch((error: Error) => {
    services.logger.error('password recovery: the outcome could not be stored', { error: error.name });
  });
}

/** The flow once the upstream call has answered; null when unknown, expired, or the start failed (start again). */
async function settled(services: RecoveryServices, recoveryToken: string): Promise<(RecoveryFlow & { state: 'sent' | 'none' }) | null> {
  const deadline = Date.now() + services.config.UPSTREAM_TIMEOUT_MS + 1000;
  for (;;) {
    const flow = await services.recoveryStore.get(recoveryToken);
    if (!flow) return null;
    if (flow.state === 'sent' || flow.state === 'none') return flow as RecoveryFlow & { state: 'sent' | 'none' };
    if (flow.state === 'failed' || Date.now() > deadline) {
      await services.recoveryStore.delete(recoveryToken);
      return null;
    }
    await sleep(50);
  }
}

/** Same shape as ours; the Account API knows no such token and answers as for a wrong one. */
const decoyToken = () => randomBytes(32).toString('base64url');
