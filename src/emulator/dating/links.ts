import type { AddedUser } from './store.js';

/**
 * Links returned with a 201, shaped like the seed's wellhello.com examples but
 * pointing at the emulator (`<base>/<site>/…`). The product key of
 * `payment_links` is `premium` (chosen; the seed shows `djs`).
 */

export function autoLoginLink(base: string, site: string, added: AddedUser): string {
  return `${base}/${site}/site/user/fastlogin/tour/${added.hash}/${added.number}`;
}

/** The auto-login link followed by the member home, unencoded like the seed's. */
export function memberAreaLink(base: string, site: string, added: AddedUser): string {
  return `${autoLoginLink(base, site, added)}?r=${base}/${site}/site/user/home`;
}

export function paymentLinks(base: string, site: string, added: AddedUser) {
  const join = (code: string) =>
    `${base}/${site}/join/join.php?origin=${site}&force_new_session=1&user_id=${added.number}&product_id=28&hash=${added.hash}&pi_code=${code}`;
  return { premium: { trial: join(''), month: join('month'), year: join('year') } };
}
