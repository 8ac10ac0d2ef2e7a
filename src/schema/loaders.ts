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
  return new AccountLoaders(account, sessions, deadline);
}

/** The loaders of one request, each made when first used (a query that reads only products makes one). */
export class AccountLoaders {
  #user: DataLoader<string, Awaited<ReturnType<SessionUsers['verify']>>> | undefined;
  #settings: DataLoader<string, Awaited<ReturnType<AccountClient['getSettings']>>> | undefined;
  #products: DataLoader<string, Awaited<ReturnType<AccountClient['getProducts']>>> | undefined;

  constructor(
    private readonly account: AccountClient,
    private readonly sessions: SessionUsers,
    private readonly deadline: Deadline,
  ) {}

  get user() {
    return (this.#user ??= perSession((session) => this.sessions.verify(session, this.deadline)));
  }

  get settings() {
    return (this.#settings ??= perSession((session) => this.account.getSettings(session, this.deadline)));
  }

  get products() {
    return (this.#products ??= perSession((session) => this.account.getProducts(session, this.deadline)));
  }
}

function perSession<T>(load: (session: string) => Promise<T>) {
  return new DataLoader<string, T>((sessions) =>
    Promise.all(sessions.map((s) => load(s).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))),
  );
}
