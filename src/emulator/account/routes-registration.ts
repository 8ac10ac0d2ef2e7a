import { ok, type ApiContext, type Outcome, type Route } from './api.js';
import type { CodeFlow } from './state.js';
import { isEmail, isLang, isPhone, type Channel } from './formats.js';
import { InvalidParamError, optString } from './params.js';
import type { Purpose } from './codes.js';
import type { ExpiringTokens } from './tokens.js';
import { isFullyVerified, isVerified, type UserRecord } from './users.js';
import { settingsView, userView } from './views.js';

/**
 * Registration, verification and code resends: `user/auth/registration`,
 * `user/auth/verify`, `user/auth/code` (shared/UPSTREAM.md §1 #3–5, §3).
 */

const CHANNELS: readonly Channel[] = ['email', 'phone'];

/** Empty strings count as missing. */
const present = (value: string | undefined): value is string => value !== undefined && value !== '';

const registration: Route = {
  path: 'user/auth/registration',
  session: 'none',
  handle({ state, body }) {
    const email = optString(body, 'email');
    const phone = optString(body, 'phone');
    const password = optString(body, 'password');
    const name = optString(body, 'name') ?? null;
    const surname = optString(body, 'surname') ?? null;
    const lang = body.lang ?? 'en';
    if (!isLang(lang)) throw new InvalidParamError('lang');
    // Required (chosen): e-mail and/or phone, and a password.
    if ((!present(email) && !present(phone)) || !present(password)) return 400;
    if (present(email) && !isEmail(email)) return 401;
    if (present(phone) && !isPhone(phone)) return 402;
    if ((present(email) && state.users.isTaken('email', email)) || (present(phone) && state.users.isTaken('phone', phone))) {
      return 405;
    }
    const user = state.users.create(
      { email: present(email) ? email : null, phone: present(phone) ? phone : null, password, name, surname, lang },
      state.clock.now(),
    );
    for (const channel of CHANNELS) {
      const address = user[channel];
      if (address !== null) state.codes.send(user.id, channel, 'registration', address);
    }
    return ok(user.id);
  },
};

const verify: Route = {
  path: 'user/auth/verify',
  session: 'optional',
  handle(ctx) {
    const code = optString(ctx.body, 'code');
    if (code !== undefined) return confirmContactChange(ctx, code);
    const { state, body } = ctx;
    const userId = optString(body, 'user_id');
    const given: Record<Channel, string | undefined> = {
      email: optString(body, 'email_code'),
      phone: optString(body, 'phone_code'),
    };
    if (!present(userId) || (given.email === undefined && given.phone === undefined)) return 400;
    const user = state.users.get(userId);
    // A user with nothing left to verify has no registration pending (chosen): 404.
    if (!user || isFullyVerified(user)) return 404;
    for (const channel of CHANNELS) {
      const codeGiven = given[channel];
      if (user[channel] === null || isVerified(user, channel) || codeGiven === undefined) continue;
      if (state.codes.consume(user.id, channel, 'registration', codeGiven) === null) continue;
      markVerified(user, channel);
      state.push.emit(user.id, 'user.verified', { channel });
    }
    if (user.email !== null && !user.emailVerified) return 401;
    if (user.phone !== null && !user.phoneVerified) return 402;
    return ok(userView(user, state.sessions.create(user.id)));
  },
};

function markVerified(user: UserRecord, channel: Channel): void {
  if (channel === 'email') user.emailVerified = true;
  else user.phoneVerified = true;
}

/** `verify` with `code` and a session: confirms a pending e-mail/phone change. */
function confirmContactChange({ state, caller }: ApiContext, code: string): Outcome {
  if (!caller) return 403;
  const { user } = caller;
  for (const channel of CHANNELS) {
    if (user.pending[channel] === null) continue;
    const address = state.codes.consume(user.id, channel, 'contact_change', code);
    if (address === null) continue;
    user.pending[channel] = null;
    // Taken by someone else since it was requested (chosen): like a wrong code.
    if (state.users.isTaken(channel, address, user.id)) return 404;
    user[channel] = address;
    markVerified(user, channel);
    state.push.emit(user.id, 'settings.updated', settingsView(user));
    state.push.emit(user.id, 'user.verified', { channel });
    return ok(userView(user));
  }
  return 404;
}

const resend: Route = {
  path: 'user/auth/code',
  session: 'optional',
  failData: false,
  handle(ctx) {
    const { body } = ctx;
    const recoveryToken = optString(body, 'recovery_token');
    if (recoveryToken !== undefined) return resendFlow(ctx, ctx.state.recoveries, recoveryToken, 'recovery');
    const deletionToken = optString(body, 'deletion_token');
    if (deletionToken !== undefined) return resendFlow(ctx, ctx.state.deletions, deletionToken, 'deletion');
    const userId = optString(body, 'user_id');
    if (userId !== undefined) return resendRegistration(ctx, userId, optString(body, 'type'));
    if (!ctx.caller) return 403;
    return resendContactChange(ctx, ctx.caller.user, optString(body, 'type'));
  },
};

/** Unknown or expired tokens and user ids answer 400 (chosen; 404 means "too soon" here). */
function resendFlow({ state }: ApiContext, tokens: ExpiringTokens<CodeFlow>, token: string, purpose: Purpose): Outcome {
  const flow = tokens.peek(token);
  const user = flow ? state.users.get(flow.userId) : undefined;
  if (!flow || !user) return 400;
  const address = user[flow.channel];
  if (address === null) return 400;
  if (state.codes.inCooldown(user.id, flow.channel, purpose)) return 404;
  state.codes.send(user.id, flow.channel, purpose, address);
  return ok(true);
}

function resendRegistration({ state }: ApiContext, userId: string, type: string | undefined): Outcome {
  if (type !== 'email' && type !== 'phone') return 400;
  const user = state.users.get(userId);
  const address = user?.[type];
  if (!user || address === null || address === undefined) return 400;
  if (isVerified(user, type)) return type === 'email' ? 401 : 402;
  if (state.codes.inCooldown(user.id, type, 'registration')) return 404;
  state.codes.send(user.id, type, 'registration', address);
  return ok(true);
}

/** Signed in, no token: resends the code of the pending change(s); `type` may pick one (chosen). */
function resendContactChange({ state }: ApiContext, user: UserRecord, type: string | undefined): Outcome {
  if (type !== undefined && type !== 'email' && type !== 'phone') return 400;
  const channels = CHANNELS.filter((c) => (type === undefined || c === type) && user.pending[c] !== null);
  if (channels.length === 0) return 400;
  if (channels.some((c) => state.codes.inCooldown(user.id, c, 'contact_change'))) return 404;
  for (const channel of channels) state.codes.send(user.id, channel, 'contact_change', user.pending[channel]!);
  return ok(true);
}

export const registrationRoutes: readonly Route[] = [registration, verify, resend];
