import { z } from 'zod';
import { BadUserInput, Unauthenticated, UpstreamAnswerOffContract, UpstreamUnavailable } from '../../domain/errors.js';
import type { Logger } from '../../infra/logger.js';
import {
  AlreadyVerified,
  CodeCooldown,
  InvalidCode,
  InvalidCredentials,
  type Channel,
  type DomainOutcome,
  ProductNotFound,
  UserAlreadyExists,
  UserDeactivated,
  UserNotFound,
  ValidationError,
  VerificationRequired,
} from '../../domain/outcomes.js';
import type { BlockReason, Language, SettingsPatch, Tracking } from '../../domain/account.js';
import type { Deadline } from '../../infra/deadline.js';
import { type UpstreamLimits, type UpstreamObserver, type UpstreamState, UpstreamHttp } from '../http.js';
import {
  blockReasonToWire,
  channelTokenWire,
  modulesWire,
  productWire,
  settingsPatchToWire,
  settingsWire,
  ticketWire,
  trackingToWire,
  userWire,
} from './wire.js';

const UPSTREAM = 'Account API';

/**
 * Seconds between two codes on one channel and purpose (shared/UPSTREAM.md §3).
 * The API answers only "too soon" (404), never how long to wait, so the
 * gateway reports this upper bound.
 */
export const RESEND_COOLDOWN_SECONDS = 90;

/** What the Account API answers with state 200 and `data`, checked by zod. */
type States = Record<number, () => DomainOutcome>;
/** The outcomes an endpoint's states can produce. */
type OutcomeOf<S extends States> = ReturnType<Extract<S[keyof S], () => DomainOutcome>>;
interface Endpoint<T, S extends States> {
  path: string;
  /** Needs `Authorization: Bearer`; state 403 then means the session is gone. */
  session: boolean;
  data: z.ZodType<T>;
  /** Every other documented state of this endpoint, as a domain outcome. */
  states: S;
  /** A read, safe to send twice: retried after a transient failure (UPSTREAM_READ_RETRIES). */
  idempotent: boolean;
}

const endpoint = <T, S extends States = Record<never, never>>(
  path: string,
  session: boolean,
  data: z.ZodType<T>,
  states: S = {} as S,
): Endpoint<T, S> => ({ path, session, data, states, idempotent: false });
/** An endpoint that only reads: the only kind that is ever retried. */
const read = <T, S extends States>(ep: Endpoint<T, S>): Endpoint<T, S> => ({ ...ep, idempotent: true });

const verification = {
  401: () => new VerificationRequired(['EMAIL']),
  402: () => new VerificationRequired(['PHONE']),
  406: () => new VerificationRequired(['EMAIL', 'PHONE']),
};
const invalidField = (field: string, message: string) => () => new ValidationError([{ path: [field], message }]);
const sessionGone = (): never => {
  throw new Unauthenticated('The session has ended. Sign in again.');
};
const ok = z.literal(true);
const withSession = userWire.refine((u) => u.session !== null, 'a session was expected').transform((u) => ({ user: u.user, session: u.session! }));
const justUser = userWire.transform((u) => u.user);

/**
 * The state tables of shared/UPSTREAM.md §1, one row per endpoint: the path,
 * whether a session is needed, the shape of `data` on 200 and the typed
 * outcome of every other state. 400 (missing fields) is the gateway's own
 * bug after its validation and 403 on a session endpoint means the session
 * is gone; both are handled for every endpoint in `call`.
 *
 * `npm run contract` (src/contract/account.ts) checks these rows against a
 * real Account API, and `npm test` against the emulator. Its checks and the
 * rows they cover (`--login`: needs a test account; `--allow-writes`: may change data):
 * - `transport`, `paths`: every row's path answers HTTP 200 with the envelope.
 * - `session-403`: every path whose rows all have `session: true` answers 403
 *   without a session and with an unknown token.
 * - `missing-400`: login, register and verifyRegistration answer 400 to `{}`,
 *   resendCode to a registration resend without `type`.
 * - `login-unknown-404`, `recovery-unknown-404`, `recovery-done-wrong-404`,
 *   `verify-unknown-user-404`: the 404 rows of login, startRecovery,
 *   completeRecovery and verifyRegistration.
 * - `--login`: `login-session` (login's `data`), `user-shape` (getUser),
 *   `settings-shape` (getSettings), `products-shape` (getProducts),
 *   `websocket-ticket` (websocketTicket), `wrong-password-404` (login 404),
 *   `logout` (logout, then getUser's 403).
 * - `--allow-writes`: `register-format-401-402` (register 401 and 402),
 *   `settings-echo` and `settings-email-401` (setSettings), `product-unknown-404`
 *   (activateProduct), `activate-idempotent` (activateProduct of an active one),
 *   `tracking-empty-404` (setTracking), `archive-short-404` (requestArchive),
 *   `block-unknown-404` (blockUser).
 */
export const api = {
  getUser: read(endpoint('user/get', true, justUser, { ...verification, 404: () => new UserNotFound(), 405: () => new UserDeactivated() })),
  login: endpoint('user/auth/login', false, withSession, { ...verification, 404: () => new InvalidCredentials(), 405: () => new UserDeactivated() }),
  register: endpoint('user/auth/registration', false, z.string().min(1), {
    401: invalidField('email', 'The Account API rejected this email format.'),
    402: invalidField('phone', 'The Account API rejected this phone format.'),
    405: () => new UserAlreadyExists(),
  }),
  verifyRegistration: endpoint('user/auth/verify', false, withSession, {
    401: () => new VerificationRequired(['EMAIL']),
    402: () => new VerificationRequired(['PHONE']),
    404: () => new UserNotFound(),
  }),
  confirmContactChange: endpoint('user/auth/verify', true, justUser, {
    401: () => new VerificationRequired(['EMAIL']),
    402: () => new VerificationRequired(['PHONE']),
    404: () => new InvalidCode(),
  }),
  resendCode: endpoint('user/auth/code', false, ok, {
    401: () => new AlreadyVerified('EMAIL'),
    402: () => new AlreadyVerified('PHONE'),
    404: () => new CodeCooldown(RESEND_COOLDOWN_SECONDS),
  }),
  resendContactChangeCode: endpoint('user/auth/code', true, ok, {
    401: () => new AlreadyVerified('EMAIL'),
    402: () => new AlreadyVerified('PHONE'),
    404: () => new CodeCooldown(RESEND_COOLDOWN_SECONDS),
  }),
  startRecovery: endpoint('user/auth/recovery', false, channelTokenWire, { 404: () => new UserNotFound() }),
  completeRecovery: endpoint('user/auth/recovery_done', false, withSession, { 404: () => new InvalidCode() }),
  blockUser: endpoint('user/block', true, ok, { 404: () => new UserNotFound() }),
  requestDeletion: endpoint('user/auth/delete', true, channelTokenWire, { 404: () => new UserNotFound() }),
  confirmDeletion: endpoint('user/auth/delete_done', true, ok, { 404: () => new InvalidCode() }),
  getSettings: read(endpoint('user/settings/get', true, settingsWire, { 404: sessionGone })),
  setSettings: endpoint('user/settings/set', true, settingsWire, {
    401: invalidField('email', 'The Account API rejected this email format.'),
    402: invalidField('phone', 'The Account API rejected this phone format.'),
    404: () => new UserNotFound(),
  }),
  getProducts: read(endpoint('user/products/get', true, z.array(productWire))),
  activateProduct: endpoint('user/products/activate', true, modulesWire, { 404: () => new ProductNotFound() }),
  deactivateProduct: endpoint('user/products/deactivate', true, modulesWire, { 404: () => new ProductNotFound() }),
  setTracking: endpoint('user/tracking/set', true, ok, {
    404: () => new ValidationError([{ path: [], message: 'No tracking attribute was set.' }]),
  }),
  requestArchive: endpoint('user/archive', true, ok, {
    404: invalidField('password', 'The archive password must have at least 6 characters.'),
  }),
  websocketTicket: endpoint('user/auth/websocket', true, ticketWire),
  logout: endpoint('user/auth/logout', true, ok),
};

/** The answer of every call (shared/UPSTREAM.md §1, transport). */
export const envelope = z.object({ state: z.number().int(), data: z.unknown() });

/** Which code a resend asks for: shared/UPSTREAM.md §1, `user/auth/code`. */
export type ResendTarget =
  | { registration: { userId: string; channel: Channel } }
  | { recoveryToken: string }
  | { deletionToken: string }
  | { contactChange: { session: string } };

export interface AccountClientOptions extends UpstreamLimits {
  baseUrl: string;
  logger: Logger;
  /** Metrics, traces and readiness of every call (src/upstream/observer.ts). */
  observer?: UpstreamObserver;
}

/**
 * The Account API, one typed method per endpoint. Each returns the success
 * value or one of the endpoint's domain outcomes, and throws only request
 * failures (Unauthenticated, UpstreamUnavailable, UpstreamTimeout). Each
 * takes the operation's `deadline` last (REQUEST_TIMEOUT_MS, shared by its
 * calls); the reads marked `read` in the table are the only calls retried.
 */
export class AccountClient {
  readonly #http: UpstreamHttp;
  readonly #logger: Logger;

  constructor(options: AccountClientOptions) {
    this.#logger = options.logger;
    this.#http = new UpstreamHttp({ ...options, name: UPSTREAM });
  }

  getUser = (session: string, deadline?: Deadline) => this.#call(api.getUser, {}, session, deadline);
  login = (login: string, password: string, deadline?: Deadline) => this.#call(api.login, { login, password }, undefined, deadline);
  register = (
    input: { email?: string; phone?: string; name?: string; surname?: string; password: string; language?: Language },
    deadline?: Deadline,
  ) =>
    this.#call(
      api.register,
      { email: input.email, phone: input.phone, name: input.name, surname: input.surname, password: input.password, lang: input.language },
      undefined,
      deadline,
    );
  verifyRegistration = (input: { userId: string; emailCode?: string; phoneCode?: string }, deadline?: Deadline) =>
    this.#call(api.verifyRegistration, { user_id: input.userId, email_code: input.emailCode, phone_code: input.phoneCode }, undefined, deadline);
  confirmContactChange = (session: string, code: string, deadline?: Deadline) => this.#call(api.confirmContactChange, { code }, session, deadline);
  resendCode = (target: ResendTarget, deadline?: Deadline) => {
    if ('contactChange' in target) return this.#call(api.resendContactChangeCode, {}, target.contactChange.session, deadline);
    if ('registration' in target) {
      const { userId, channel } = target.registration;
      return this.#call(api.resendCode, { user_id: userId, type: channel === 'EMAIL' ? 'email' : 'phone' }, undefined, deadline);
    }
    if ('recoveryToken' in target) return this.#call(api.resendCode, { recovery_token: target.recoveryToken }, undefined, deadline);
    return this.#call(api.resendCode, { deletion_token: target.deletionToken }, undefined, deadline);
  };
  startRecovery = (login: string, deadline?: Deadline) => this.#call(api.startRecovery, { login }, undefined, deadline);
  completeRecovery = (token: string, code: string, password: string, deadline?: Deadline) =>
    this.#call(api.completeRecovery, { token, code, password }, undefined, deadline);
  blockUser = (session: string, userId: string, reason: BlockReason, deadline?: Deadline) =>
    this.#call(api.blockUser, { id: userId, reason: blockReasonToWire(reason) }, session, deadline);
  requestDeletion = (session: string, deadline?: Deadline) => this.#call(api.requestDeletion, {}, session, deadline);
  confirmDeletion = (session: string, code: string, deadline?: Deadline) => this.#call(api.confirmDeletion, { code }, session, deadline);
  getSettings = (session: string, deadline?: Deadline) => this.#call(api.getSettings, {}, session, deadline);
  setSettings = (session: string, patch: SettingsPatch, deadline?: Deadline) => this.#call(api.setSettings, settingsPatchToWire(patch), session, deadline);
  getProducts = (session: string, deadline?: Deadline) => this.#call(api.getProducts, {}, session, deadline);
  activateProduct = (session: string, productId: string, deadline?: Deadline) =>
    this.#call(api.activateProduct, { product_id: productId }, session, deadline);
  deactivateProduct = (session: string, productId: string, deadline?: Deadline) =>
    this.#call(api.deactivateProduct, { product_id: productId }, session, deadline);
  setTracking = (session: string, tracking: Tracking, deadline?: Deadline) => this.#call(api.setTracking, trackingToWire(tracking), session, deadline);
  requestArchive = (session: string, password: string, deadline?: Deadline) => this.#call(api.requestArchive, { password }, session, deadline);
  websocketTicket = (session: string, deadline?: Deadline) => this.#call(api.websocketTicket, {}, session, deadline);
  logout = (session: string, deadline?: Deadline) => this.#call(api.logout, {}, session, deadline);

  /** The Account API's origin as readiness and metrics see it: its circuit and queue. */
  get upstreams(): readonly UpstreamState[] {
    return [this.#http];
  }

  /**
   * Readiness: resolves when the API answers at all, with the cheapest call
   * (`user/get` without a session, answered with state 403); throws a
   * request error otherwise (also while the circuit is open).
   */
  probe = async (deadline?: Deadline): Promise<void> => {
    const res = await this.#http.request({ path: api.getUser.path, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}', deadline });
    if (res.status !== 200 || !envelope.safeParse(res.json).success) throw this.#offContract(api.getUser, res.status, `probe answered HTTP ${res.status}`);
  };

  close = () => this.#http.close();

  async #call<T, S extends States>(ep: Endpoint<T, S>, params: Record<string, unknown>, session?: string, deadline?: Deadline): Promise<T | OutcomeOf<S>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (session !== undefined) headers.authorization = `Bearer ${session}`;
    // JSON leaves out undefined fields.
    const body = JSON.stringify(params);
    const res = await this.#http.request({ path: ep.path, headers, body, idempotent: ep.idempotent, deadline });
    // A 5xx is the API's trouble, logged (sampled) by UpstreamHttp; any other status but 200 is off contract.
    if (res.status >= 500) throw new UpstreamUnavailable(UPSTREAM, `HTTP ${res.status}`);
    if (res.status !== 200) throw this.#offContract(ep, res.status, `HTTP ${res.status}`);
    const answer = envelope.safeParse(res.json);
    if (!answer.success) throw this.#offContract(ep, res.status, 'not a { state, data } envelope');
    const { state, data } = answer.data;
    if (state === 200) {
      const parsed = ep.data.safeParse(data);
      if (!parsed.success) throw this.#offContract(ep, res.status, `data of state 200 off contract at ${parsed.error.issues[0]?.path.join('.') || '(root)'}`);
      return parsed.data;
    }
    const outcome = ep.states[state];
    if (outcome) return outcome() as OutcomeOf<S>;
    if (state === 403 && ep.session) sessionGone();
    if (state === 400) throw new BadUserInput('The Account API reported required fields as missing.');
    throw this.#offContract(ep, res.status, `undocumented state ${state}`);
  }

  #offContract(ep: { path: string }, status: number, reason: string) {
    this.#logger.error('Account API answer off contract', { path: ep.path, reason });
    return new UpstreamAnswerOffContract(UPSTREAM, reason, status);
  }
}

