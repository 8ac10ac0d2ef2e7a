import DataLoader from 'dataloader';
import { Unauthenticated } from './errors.js';
import type { Deadline } from './infra/deadline.js';
import { Outcome } from './outcomes.js';
import type { AccountClient } from './upstream/account/client.js';

/**
 * One DataLoader per Account API resource, keyed by session token and made
 * fresh for every request: however often a query names `viewer`, `settings`
 * or `products`, each is fetched once, within the request's deadline.
 * Mutations prime or clear them so a payload shows the state after the change.
 */
export function createLoaders(account: AccountClient, deadline: Deadline) {
  return {
    user: perSession(async (session) => {
      const user = await account.getUser(session, deadline);
      if (user instanceof Outcome) throw new Unauthenticated(user.message, { reason: user.constructor.name });
      return user;
    }),
    settings: perSession((session) => account.getSettings(session, deadline)),
    products: perSession((session) => account.getProducts(session, deadline)),
  };
}

export type AccountLoaders = ReturnType<typeof createLoaders>;

function perSession<T>(load: (session: string) => Promise<T>) {
  return new DataLoader<string, T>((sessions) =>
    Promise.all(sessions.map((s) => load(s).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))),
  );
}
