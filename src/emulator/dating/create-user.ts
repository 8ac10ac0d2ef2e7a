import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../infra/logger.js';
import { isWhitelisted, keyMatches } from './access.js';
import { readFields } from './body.js';
import {
  MESSAGES,
  badRequest,
  created,
  failure,
  failureWithException,
  type DatingEnvelope,
} from './envelope.js';
import { autoLoginLink, memberAreaLink, paymentLinks } from './links.js';
import type { DatingSiteEmulation } from './sites.js';
import type { DatingStore } from './store.js';
import { validateNewUser } from './validation.js';

/**
 * `POST /{site}/v2/api/user` (shared/UPSTREAM.md §2). The seed gives the
 * codes but not their precedence; the checks run in this order (chosen),
 * the first failing one answers:
 *
 *  1. method other than POST          → 405 (OPTIONS is a CORS preflight, see server.ts)
 *  2. outage switched on              → 500 / 503
 *  3. caller IP not whitelisted       → 401 "Remote IP is not in the white list"
 *  4. Authorization is not the key    → 401 "Token not found"
 *  5. per-minute limit reached        → 429 (steps 5+ each use one slot)
 *  6. body or fields invalid          → 400 with every bad field
 *  7. affise_affiliate_id wrong/unneeded → 402
 *  8. email on `invalid.test`         → 406 (stand-in for the third-party check)
 *  9. email already used on the site  → 409 (case-insensitive)
 * 10. otherwise                       → 201
 */

export interface CreateUserContext {
  site: DatingSiteEmulation;
  store: DatingStore;
  /** `http://host:port` of the emulator; links in a 201 start with it. */
  baseUrl: string;
  logger: Logger;
}

export interface Reply {
  envelope: DatingEnvelope;
  headers?: Record<string, string>;
}

/** The domain the stand-in email check rejects (shared/UPSTREAM.md §4). */
export const REJECTED_EMAIL_DOMAIN = 'invalid.test';

const emailDomain = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

function affiseMatches(site: DatingSiteEmulation, given: string | undefined): boolean {
  return site.affiseAffiliateId === undefined ? given === undefined : given === site.affiseAffiliateId;
}

export async function handleCreateUser(req: IncomingMessage, ctx: CreateUserContext): Promise<Reply> {
  const { site, store } = ctx;
  if (req.method !== 'POST') {
    return { envelope: failure(405, MESSAGES.methodNotAllowed), headers: { allow: 'POST, OPTIONS' } };
  }
  const outage = store.outage(site.id);
  if (outage === 500) return { envelope: failure(500, MESSAGES.internal) };
  if (outage === 503) return { envelope: failure(503, MESSAGES.unavailable), headers: { 'retry-after': '30' } };

  if (!isWhitelisted(site, req.socket.remoteAddress)) {
    return { envelope: failureWithException(401, MESSAGES.notWhitelisted) };
  }
  if (!keyMatches(site, req.headers.authorization)) {
    return { envelope: failureWithException(401, MESSAGES.tokenNotFound) };
  }
  const retryAfter = store.takeRateSlot(site.id, site.perMinuteLimit);
  if (retryAfter > 0) {
    return { envelope: failure(429, MESSAGES.tooManyRequests), headers: { 'retry-after': String(retryAfter) } };
  }

  const body = await readFields(req);
  if (!body.ok) return { envelope: badRequest({ body: body.message }) };
  const result = validateNewUser(body.fields, (nickname) => store.hasNickname(site.id, nickname));
  if (!result.ok) return { envelope: badRequest(result.errors) };
  const input = result.input;

  if (!affiseMatches(site, input.affise_affiliate_id)) return { envelope: failure(402, MESSAGES.affise) };
  if (emailDomain(input.email) === REJECTED_EMAIL_DOMAIN) return { envelope: failure(406, MESSAGES.emailNotValid) };
  if (store.hasEmail(site.id, input.email)) {
    return { envelope: failureWithException(409, MESSAGES.duplicateEmail(input.email)) };
  }

  const added = store.addUser(site.id, input);
  ctx.logger.info('dating user created', { site: site.id, email: input.email });
  const data: Record<string, unknown> = {
    user_email: input.email,
    email_validation: { email: input.email, status: 'valid', corrected: null, emailReceptionEnabled: true },
    auto_login: autoLoginLink(ctx.baseUrl, site.id, added),
  };
  if (site.paymentLinks === true) data['payment_links'] = paymentLinks(ctx.baseUrl, site.id, added);
  if (site.memberAreaLink === true) data['member_area_link'] = memberAreaLink(ctx.baseUrl, site.id, added);
  return { envelope: created(data) };
}
