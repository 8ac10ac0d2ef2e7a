import { ok, type Route } from './api.js';
import type { Channel } from './formats.js';
import { optString, reqString } from './params.js';
import { userView } from './views.js';

/**
 * Password recovery and account deletion: `user/auth/recovery`,
 * `user/auth/recovery_done`, `user/auth/delete`, `user/auth/delete_done`
 * (shared/UPSTREAM.md §1 #6, #7, #9, #10).
 */

const recovery: Route = {
  path: 'user/auth/recovery',
  session: 'none',
  failData: false,
  handle({ state, body }) {
    const login = reqString(body, 'login');
    const user = state.users.findByLogin(login);
    if (!user || user.deactivated) return 404;
    // The code goes to the channel the login names (chosen).
    const channel: Channel = login === user.phone ? 'phone' : 'email';
    state.recoveries.dropWhere((flow) => flow.userId === user.id);
    const token = state.recoveries.issue({ userId: user.id, channel });
    state.codes.send(user.id, channel, 'recovery', user[channel]!);
    return ok({ token, type: channel });
  },
};

const recoveryDone: Route = {
  path: 'user/auth/recovery_done',
  session: 'none',
  handle({ state, body }) {
    const token = reqString(body, 'token');
    const code = reqString(body, 'code');
    const password = reqString(body, 'password');
    const flow = state.recoveries.peek(token);
    const user = flow ? state.users.get(flow.userId) : undefined;
    if (!flow || !user || user.deactivated) return 404;
    if (state.codes.consume(user.id, flow.channel, 'recovery', code) === null) return 404;
    state.recoveries.take(token);
    user.password = password;
    // The code proves the address (chosen): an unverified channel becomes verified.
    const verifiedKey = flow.channel === 'email' ? 'emailVerified' : 'phoneVerified';
    if (!user[verifiedKey]) {
      user[verifiedKey] = true;
      state.push.emit(user.id, 'user.verified', { channel: flow.channel });
    }
    state.sessions.endForUser(user.id);
    return ok(userView(user, state.sessions.create(user.id)));
  },
};

const deletion: Route = {
  path: 'user/auth/delete',
  session: 'required',
  handle({ state, caller }) {
    const { user } = caller!;
    // The code goes to the e-mail when there is one, else to the phone (chosen).
    const channel: Channel = user.email !== null && user.emailVerified ? 'email' : 'phone';
    state.deletions.dropWhere((flow) => flow.userId === user.id);
    const token = state.deletions.issue({ userId: user.id, channel });
    state.codes.send(user.id, channel, 'deletion', user[channel]!);
    return ok({ type: channel, token });
  },
};

const deletionDone: Route = {
  path: 'user/auth/delete_done',
  session: 'required',
  failData: false,
  handle({ state, caller, body }) {
    const { user } = caller!;
    const code = reqString(body, 'code');
    const token = optString(body, 'token');
    if (token !== undefined && state.deletions.peek(token)?.userId !== user.id) return 404;
    const channels: Channel[] = ['email', 'phone'];
    if (!channels.some((channel) => state.codes.consume(user.id, channel, 'deletion', code) !== null)) return 404;
    state.deleteUser(user.id);
    return ok(true);
  },
};

export const recoveryRoutes: readonly Route[] = [recovery, recoveryDone, deletion, deletionDone];
