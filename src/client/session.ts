/**
 * The session token, kept in one place. The client reads every result's
 * root fields: an `AuthSuccess` (verifyRegistration, login,
 * completePasswordRecovery) starts a session, `LogoutSuccess` and
 * `ConfirmAccountDeletionSuccess` end it. Operations must select
 * `__typename` and `session { token }` on AuthSuccess for this, as the
 * `AuthOutcome` fragment of schema/operations does.
 */
export class SessionToken {
  private token: string | null = null;

  constructor(private readonly onChange?: (token: string | null) => void) {}

  get current(): string | null {
    return this.token;
  }

  set(token: string | null): void {
    if (token === this.token) return;
    this.token = token;
    this.onChange?.(token);
  }

  /** `Authorization` header value, or undefined without a session. */
  get authorization(): string | undefined {
    return this.token ? `Bearer ${this.token}` : undefined;
  }

  /** Applies what a result says about the session. */
  observe(data: unknown): void {
    if (data === null || typeof data !== 'object') return;
    for (const field of Object.values(data)) {
      if (field === null || typeof field !== 'object' || !('__typename' in field)) continue;
      if (field.__typename === 'AuthSuccess' && 'session' in field) {
        const session = field.session as { token?: unknown } | null;
        if (typeof session?.token === 'string') this.set(session.token);
      } else if (field.__typename === 'LogoutSuccess' || field.__typename === 'ConfirmAccountDeletionSuccess') {
        this.set(null);
      }
    }
  }
}
