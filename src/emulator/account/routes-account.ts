import { ok, type Route } from './api.js';
import { optInt, reqString } from './params.js';
import { userView } from './views.js';

/**
 * The signed-in user's own record and requests: `user/get`, `user/block`,
 * `user/archive` (shared/UPSTREAM.md §1 #1, #8, #17).
 */

const getUser: Route = {
  path: 'user/get',
  session: 'required',
  // The only session endpoint whose table has "user deactivated".
  deactivatedState: 405,
  handle: ({ caller }) => ok(userView(caller!.user)),
};

const block: Route = {
  path: 'user/block',
  session: 'required',
  failData: false,
  handle({ state, caller, body }) {
    const { user } = caller!;
    const id = reqString(body, 'id');
    const reason = optInt(body, 'reason', 1, 5) ?? 1;
    // Blocking oneself answers 404 like an unknown user (chosen).
    if (id === user.id || !state.users.get(id)) return 404;
    user.blocked.set(id, reason);
    return ok(true);
  },
};

const archive: Route = {
  path: 'user/archive',
  session: 'required',
  failData: false,
  handle({ caller, body }) {
    const password = body.password;
    if (typeof password !== 'string' || password.length < 6) return 404;
    caller!.user.archivePassword = password;
    return ok(true);
  },
};

export const accountRoutes: readonly Route[] = [getUser, block, archive];
