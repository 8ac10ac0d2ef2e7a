import type { UserRecord } from './users.js';

/**
 * The emulator's product catalogue (chosen; the seed shows only `webstat`).
 * `dating` is paid, so deactivating it answers a `subscription_cancel` link;
 * `legacy-chat` is disabled for everyone and answers 404 to activate and
 * deactivate (shared/UPSTREAM.md §3).
 */
export interface Product {
  id: string;
  title: string;
  description: string;
  policy: string;
  icon: string;
  /** URL of an information page, or null. */
  info: string | null;
  disabled: boolean;
  /** Where a paid subscription is cancelled; null for free products. */
  subscriptionCancel: string | null;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 'dating',
    title: 'Dating',
    description: 'Meet people on partner dating sites with one account.',
    policy: 'Dating product agreement: your profile is shared with the dating sites you join.',
    icon: 'heart',
    info: 'https://example.com/products/dating',
    disabled: false,
    subscriptionCancel: 'https://billing.example.com/subscriptions/dating/cancel',
  },
  {
    id: 'webstat',
    title: 'Advanced web analytics',
    description: 'Find out what I think and how visitors of your resources look.',
    policy: "It's a Privacy Policy",
    icon: 'globe',
    info: null,
    disabled: false,
    subscriptionCancel: null,
  },
  {
    id: 'legacy-chat',
    title: 'Legacy chat',
    description: 'The old chat, no longer offered.',
    policy: 'Legacy chat agreement.',
    icon: 'chat',
    info: null,
    disabled: true,
    subscriptionCancel: null,
  },
];

/** A product that can be activated or deactivated (not disabled). */
export function findActiveProduct(id: string): Product | undefined {
  return PRODUCTS.find((p) => p.id === id && !p.disabled);
}

/** The Product object of shared/UPSTREAM.md §1 for this user. */
export function productView(product: Product, user: UserRecord): Record<string, unknown> {
  const state = product.disabled ? 'disabled' : user.modules.has(product.id) ? 'activated' : 'deactivated';
  const { id, title, description, policy, icon, info } = product;
  return { id, title, description, policy, icon, info, state };
}
