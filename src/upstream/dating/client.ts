import type { DatingSiteConfig } from '../../config.js';
import {
  DatingAnswerOffContract,
  DatingSiteFailed,
  UpstreamAnswerNotJson,
  UpstreamDeadlinePassed,
  UpstreamHeldBack,
  UpstreamUnavailable,
  UpstreamUnreachable,
} from '../../domain/errors.js';
import type { Logger } from '../../infra/logger.js';
import { AlreadyRegistered, EmailRejected, SiteRateLimited, ValidationError } from '../../domain/outcomes.js';
import { siteRefusal, type DatingSite, type DatingUser, type NewDatingUser } from '../../domain/dating.js';
import type { Deadline } from '../../infra/deadline.js';
import { type UpstreamLimits, type UpstreamObserver, type UpstreamResponse, type UpstreamState, UpstreamHttp } from '../http.js';
import {
  badRequestWire,
  createdWire,
  envelopeWire,
  errorTextWire,
  inputFieldsOfWire,
  newUserToWire,
  retryAfterSeconds,
} from './wire.js';

const USER_PATH = 'v2/api/user';

/** What a dating site can answer to create-user, besides a request failure. */
export type CreateDatingUserResult = DatingUser | ValidationError | EmailRejected | AlreadyRegistered | SiteRateLimited;

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * Whether a createUser call that threw may still have created the user.
 * False only when the site said it did not (an error status, also one with
 * an off-contract or unreadable body) or never got the request (refused by
 * the connection, or by the gateway: open circuit, full queue, no time
 * left); a timeout, a connection cut mid-answer or an unreadable 2xx may
 * hide a created user.
 */
export function mayHaveCreatedUser(error: unknown): boolean {
  if (error instanceof DatingSiteFailed) return false;
  if (error instanceof DatingAnswerOffContract || error instanceof UpstreamAnswerNotJson) return isSuccess(error.status);
  if (error instanceof UpstreamUnreachable) return !NOT_SENT.has(error.errno);
  if (error instanceof UpstreamHeldBack) return false;
  if (error instanceof UpstreamDeadlinePassed) return error.sent;
  return true;
}

/** Transport failures before anything was sent: the site received nothing. */
const NOT_SENT: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface Answer {
  siteId: string;
  /** The email sent, reported when a 201 leaves `user_email` out. */
  email: string;
  res: UpstreamResponse;
  data: Record<string, unknown>;
}

/**
 * The status table of shared/UPSTREAM.md §2: each documented answer the user
 * can act on becomes a value; every other status throws DatingSiteFailed
 * (after an alert in the log). An answer whose body does not fit its row is
 * off contract (UpstreamUnavailable).
 */
const answers: Record<number, (a: Answer) => CreateDatingUserResult | null> = {
  201: ({ siteId, email, data }) => {
    const created = createdWire.safeParse(data);
    return created.success ? { siteId, ...created.data, userEmail: created.data.userEmail ?? email } : null;
  },
  // The site's texts are never passed on (they may quote the password or the key): fixed messages per field.
  400: ({ data }) => {
    const bad = badRequestWire.safeParse(data);
    return bad.success ? siteRefusal(inputFieldsOfWire(bad.data.errors)) : null;
  },
  406: ({ siteId }) => new EmailRejected(siteId),
  409: ({ siteId }) => new AlreadyRegistered(siteId),
  429: ({ siteId, res }) => new SiteRateLimited(siteId, retryAfterSeconds(res.headers['retry-after'])),
};

export interface DatingClientOptions extends UpstreamLimits {
  /** The configured sites (`DATING_SITES`). Their keys stay inside this client. */
  sites: readonly DatingSiteConfig[];
  logger: Logger;
  /** Metrics and traces of every call (src/upstream/observer.ts). */
  observer?: UpstreamObserver;
}

interface SiteConnection {
  site: DatingSite;
  http: UpstreamHttp;
  apiKey: string;
  affiseAffiliateId: string | undefined;
}

/**
 * The Dating API v2, one connection pool (and circuit) per configured site.
 * The only code that holds the sites' API keys. `createUser` is never
 * retried: it creates users.
 */
export class DatingClient {
  readonly #sites = new Map<string, SiteConnection>();
  readonly #logger: Logger;

  constructor(options: DatingClientOptions) {
    this.#logger = options.logger;
    for (const site of options.sites) {
      this.#sites.set(site.id, {
        site: { id: site.id, name: site.name },
        http: new UpstreamHttp({ ...options, name: `dating site ${site.id}`, baseUrl: site.baseUrl }),
        apiKey: site.apiKey,
        affiseAffiliateId: site.affiseAffiliateId,
      });
    }
  }

  /** The configured sites, in configuration order. */
  sites(): DatingSite[] {
    return [...this.#sites.values()].map((s) => s.site);
  }

  site(id: string): DatingSite | undefined {
    return this.#sites.get(id)?.site;
  }

  /** Each site's origin as readiness and metrics see it: its circuit and queue. */
  get upstreams(): readonly UpstreamState[] {
    return [...this.#sites.values()].map((s) => s.http);
  }

  /**
   * `POST {site}/v2/api/user` with a JSON body. Returns the created user or
   * the site's refusal; throws UpstreamUnavailable (DatingSiteFailed when
   * the site answered a status the user cannot act on) or UpstreamTimeout.
   */
  async createUser(siteId: string, user: NewDatingUser, deadline?: Deadline): Promise<CreateDatingUserResult> {
    const conn = this.#sites.get(siteId);
    if (!conn) throw new RangeError(`unknown dating site ${siteId}`);
    const upstream = `dating site ${siteId}`;
    let res: UpstreamResponse;
    try {
      res = await conn.http.request({
        method: 'POST',
        path: USER_PATH,
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: conn.apiKey },
        body: JSON.stringify(newUserToWire(user, conn.affiseAffiliateId)),
        deadline,
      });
    } catch (error) {
      // The gateway's own refusals (open circuit, full queue) are no news: the circuit's opening was logged.
      if (error instanceof UpstreamUnavailable && !(error instanceof UpstreamHeldBack)) {
        this.#logger.error('dating site unreachable', { alert: true, site: siteId, reason: error.reason });
      }
      throw error;
    }
    const secrets = [conn.apiKey, user.password];
    const envelope = envelopeWire.safeParse(res.json);
    if (!envelope.success) throw this.#offContract(conn, res.status, 'not a { success, data, status_code } envelope');
    const { success, data, status_code } = envelope.data;
    if (status_code !== res.status) throw this.#offContract(conn, res.status, `status_code ${status_code} differs from the HTTP status`);
    const row = answers[res.status];
    if (row === undefined) {
      const error = errorTextWire.safeParse(data);
      this.#logger.error('dating site refused the gateway', {
        alert: true,
        site: siteId,
        status: res.status,
        upstreamError: error.success ? scrub(error.data.error, secrets) : null,
      });
      throw new DatingSiteFailed(upstream, res.status);
    }
    const result = success === (res.status === 201) ? row({ siteId, email: user.email, res, data }) : null;
    if (result === null) throw this.#offContract(conn, res.status, `data of HTTP ${res.status} off contract`);
    if (result instanceof ValidationError) {
      // For whoever reads the log: the site's own words, without the key or the password it may quote.
      const texts = Object.entries(badRequestWire.parse(data).errors).slice(0, 10);
      this.#logger.info('dating site refused the input', { site: siteId, status: res.status, siteErrors: texts.map(([field, text]) => scrub(`${field}: ${text}`, secrets)) });
    } else {
      this.#logger.info('dating user call answered', { site: siteId, status: res.status });
    }
    return result;
  }

  #offContract(conn: SiteConnection, status: number, reason: string) {
    this.#logger.error('dating site answer off contract', { alert: true, site: conn.site.id, status, reason });
    return new DatingAnswerOffContract(`dating site ${conn.site.id}`, reason, status);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sites.values()].map((s) => s.http.close()));
  }
}

/**
 * A site's text for the log: every secret the call sent (the key, the
 * password; raw, JSON-escaped and URL-encoded) replaced, control characters
 * dropped, then cut to 200 characters.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const forms = secrets
    .filter((s) => s.length > 0)
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) out = out.split(form).join('[redacted]');
  // biome-ignore lint: control characters are what this strips
  return [...out.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')].slice(0, 200).join('');
}
