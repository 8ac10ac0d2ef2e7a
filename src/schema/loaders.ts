import DataLoader from 'dataloader';
import { Unauthenticated } from '../domain/errors.js';
import { DomainOutcome } from '../domain/outcomes.js';
import type { AccountClient } from '../upstream/account/client.js';

/**
 * One DataLoader per Account API resource, keyed by session token and made
 * fresh for every request: however often a query names `viewer`, `settings`
 * or `products`, each is fetched once. Mutations prime or clear them so a
 * payload shows the state after the change.
 */
export function createLoaders(account: AccountClient) {
  return {
    user: perSession(async (session) => {
      const user = await account.getUser(session);
      if (user instanceof DomainOutcome) throw new Unauthenticated(user.message, { reason: user.constructor.name });
      return user;
    }),
    settings: perSession(account.getSettings),
    products: perSession(account.getProducts),
  };
}

export type AccountLoaders = ReturnType<typeof createLoaders>;

function perSession<T>(load: (session: string) => Promise<T>) {
  return new DataLoader<string, T>((sessions) =>
    Promise.all(sessions.map((s) => load(s).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))),
  );
}
