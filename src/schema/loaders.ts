import DataLoader from 'dataloader';
import type { Deadline } from '../infra/deadline.js';
import type { AccountClient } from '../upstream/account/client.js';
import type { SessionUsers } from '../upstream/account/session-users.js';

/**
 * One DataLoader per Account API resource, keyed by session token and made
 * fresh for every request: however often a query names `viewer`, `settings`
 * or `products`, each is fetched once, within the request's deadline. Mutations prime or clear them so a
 * payload shows the state after the change. The user comes from the one
 * session lookup (SessionUsers.verify), so it also remembers the user id.
 */
export function createLoaders(account: AccountClient, sessions: SessionUsers, deadline: Deadline) {
  return {
    user: perSession((session) => sessions.verify(session, deadline)),
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
