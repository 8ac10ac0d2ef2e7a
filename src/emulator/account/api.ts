import { InvalidParamError, type Body } from './params.js';
import type { SessionRecord } from './sessions.js';
import type { EmulatorState } from './state.js';
import type { UserRecord } from './users.js';
import type { Envelope } from './envelope.js';

export type { Envelope } from './envelope.js';

/** A handler answers `ok(data)` or a bare state, which becomes `{ state, data: failData }`. */
export type Outcome = Envelope | number;

export const ok = (data: unknown): Envelope => ({ state: 200, data });

/** The signed-in caller of a call that carried a valid session. */
export interface Caller {
  session: SessionRecord;
  user: UserRecord;
}

export interface ApiContext {
  state: EmulatorState;
  body: Body;
  /** Resolved for `session: 'required'` and `'optional'` routes. */
  caller: Caller | null;
  /** The request's Host header (for the websocket URL). */
  host: string;
}

export interface Route {
  path: string;
  /** `required`: answers 403 without a live session; `optional`: the handler decides. */
  session: 'required' | 'optional' | 'none';
  /**
   * State for a deactivated caller on a `required` route (default 403: the
   * session is no longer usable); null lets the call through.
   */
  deactivatedState?: number | null;
  /** `data` of a failure. The seed shows `false` where success is `true`; default null. */
  failData?: false | null;
  handle(ctx: ApiContext): Outcome;
}

/** The bearer token of an Authorization header, if any. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

function resolveCaller(state: EmulatorState, token: string | null): Caller | null {
  const session = token === null ? null : state.sessions.resolve(token);
  const user = session ? state.users.get(session.userId) : undefined;
  return session && user ? { session, user } : null;
}

/** Runs one call: session checks, the handler, and 400 for an invalid parameter. */
export function dispatch(route: Route, state: EmulatorState, body: Body, authorization: string | undefined, host: string): Envelope {
  let caller: Caller | null = null;
  if (route.session !== 'none') {
    caller = resolveCaller(state, bearerToken(authorization));
    if (caller?.user.deactivated) {
      const deactivatedState = route.deactivatedState === undefined ? 403 : route.deactivatedState;
      if (route.session === 'optional') caller = null;
      else if (deactivatedState !== null) return { state: deactivatedState, data: null };
    }
    if (route.session === 'required' && caller === null) return { state: 403, data: null };
  }
  let outcome: Outcome;
  try {
    outcome = route.handle({ state, body, caller, host });
  } catch (error) {
    if (!(error instanceof InvalidParamError)) throw error;
    outcome = 400;
  }
  if (typeof outcome !== 'number') return outcome;
  return { state: outcome, data: outcome === 403 ? null : (route.failData ?? null) };
}
