import { ok, type Route } from './api.js';
import { reqString } from './params.js';
import { userView } from './views.js';

/**
 * Signing in and out and the websocket ticket: `user/auth/login`,
 * `user/auth/logout`, `user/auth/websocket` (shared/UPSTREAM.md §1 #2, #18, #19).
 */

const login: Route = {
  path: 'user/auth/login',
  session: 'none',
  handle({ state, body }) {
    const loginName = reqString(body, 'login');
    const password = reqString(body, 'password');
    const user = state.users.findByLogin(loginName);
    // Unknown login and wrong password are not told apart (§3).
    if (!user || user.password !== password) return 404;
    if (user.deactivated) return 405;
    const emailMissing = user.email !== null && !user.emailVerified;
    const phoneMissing = user.phone !== null && !user.phoneVerified;
    if (emailMissing && phoneMissing) return 406;
    if (emailMissing) return 401;
    if (phoneMissing) return 402;
    return ok(userView(user, state.sessions.create(user.id)));
  },
};

const logout: Route = {
  path: 'user/auth/logout',
  session: 'required',
  deactivatedState: null,
  failData: false,
  handle({ state, caller }) {
    state.sessions.end(caller!.session.token);
    return ok(true);
  },
};

const websocket: Route = {
  path: 'user/auth/websocket',
  session: 'required',
  handle({ state, caller, host }) {
    const ticket = state.tickets.issue(caller!.session.token);
    return ok({ url: `ws://${host}/ws`, ticket });
  },
};

export const authRoutes: readonly Route[] = [login, logout, websocket];
