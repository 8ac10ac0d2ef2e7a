/**
 * Domain outcomes: the answers of an upstream that are not a success but are
 * part of its contract (a state code in shared/UPSTREAM.md). The upstream
 * clients return them as values; the schema exposes each as a type that
 * implements `Error` inside the mutation's payload union.
 */
export type Channel = 'EMAIL' | 'PHONE';

/**
 * Not an Error subclass: graphql-js takes a returned Error for a failed field,
 * and outcomes are returned as data. A thrown one (a ValidationError from
 * src/schema/validation.ts) is turned into data by its payload union
 * (@pothos/plugin-errors).
 */
export abstract class DomainOutcome {
  abstract readonly message: string;
}

export interface FieldError {
  path: string[];
  message: string;
}

/** Input that the gateway or an upstream refused, with every bad field. */
export class ValidationError extends DomainOutcome {
  readonly message: string;
  constructor(readonly fieldErrors: FieldError[], message?: string) {
    super();
    const fields = fieldErrors.filter((e) => e.path.length > 0).map((e) => e.path.join('.'));
    const whole = fieldErrors.find((e) => e.path.length === 0)?.message;
    this.message = message ?? (fields.length > 0 ? `Invalid input: ${fields.join(', ')}.` : (whole ?? 'Invalid input.'));
  }
}

/** The account still needs these channels verified before it can sign in. */
export class VerificationRequired extends DomainOutcome {
  readonly message: string;
  constructor(readonly channels: Channel[]) {
    super();
    const names = channels.map((c) => (c === 'EMAIL' ? 'email' : 'phone')).join(' and ');
    this.message = `Verify your ${names} first: enter the code that was sent.`;
  }
}

export class InvalidCredentials extends DomainOutcome {
  readonly message = 'The login or the password is wrong.';
}

export class UserNotFound extends DomainOutcome {
  readonly message = 'No such user.';
}

export class UserDeactivated extends DomainOutcome {
  readonly message = 'This account is deactivated.';
}

export class UserAlreadyExists extends DomainOutcome {
  readonly message = 'An account with this email or phone already exists.';
}

/** A confirmation code or token that is wrong, used or expired. */
export class InvalidCode extends DomainOutcome {
  readonly message = 'The code is wrong or has expired. Request a new one.';
}

export class AlreadyVerified extends DomainOutcome {
  readonly message: string;
  constructor(readonly channel: Channel) {
    super();
    this.message = `The ${channel === 'EMAIL' ? 'email' : 'phone'} is already verified.`;
  }
}

/** A code was sent less than the cooldown ago; wait before asking again. */
export class CodeCooldown extends DomainOutcome {
  readonly message: string;
  constructor(readonly retryAfterSeconds: number) {
    super();
    this.message = `A code was sent recently. Try again in ${retryAfterSeconds} seconds.`;
  }
}

export class ProductNotFound extends DomainOutcome {
  readonly message = 'No such product, or it cannot be changed.';
}

/** The dating site's email check found the address invalid or unreachable (Dating API 406). */
export class EmailRejected extends DomainOutcome {
  readonly message = 'The dating site rejected this email address as invalid or unreachable.';
  constructor(readonly siteId: string) {
    super();
  }
}

/** A user with this email exists on the dating site already (Dating API 409). */
export class AlreadyRegistered extends DomainOutcome {
  readonly message = 'A user with this email is already registered on the dating site.';
  constructor(readonly siteId: string) {
    super();
  }
}

/** The dating site's per-minute limit is reached (Dating API 429); nothing was created. */
export class SiteRateLimited extends DomainOutcome {
  readonly message: string;
  constructor(readonly siteId: string, readonly retryAfterSeconds: number) {
    super();
    this.message = `The dating site is busy. Try again in ${retryAfterSeconds} seconds.`;
  }
}
