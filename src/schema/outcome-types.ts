import {
  AlreadyVerified,
  CodeCooldown,
  InvalidCode,
  InvalidCredentials,
  DomainOutcome,
  ProductNotFound,
  UserAlreadyExists,
  UserDeactivated,
  UserNotFound,
  ValidationError,
  VerificationRequired,
} from '../domain/outcomes.js';
import { builder } from './builder.js';

/**
 * The domain outcomes of src/domain/outcomes.ts as GraphQL types. Each implements
 * `Error` and is a member of the payload unions of the mutations that can
 * produce it (shared/API.md "Domain outcomes are data"): a `builder.errorUnion`
 * names the outcome's class, so the class stands for its type there.
 */
export const ErrorInterface = builder.interfaceRef<DomainOutcome>('Error').implement({
  description: 'A domain outcome that is not a success. Every payload union member except the success type implements it.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'A sentence to show to the user.' }) }),
});

export const VerificationChannel = builder.enumType('VerificationChannel', {
  description: 'Where a verification code is sent.',
  values: { EMAIL: {}, PHONE: {} } as const,
});

// biome-ignore lint: Pothos takes any constructor
type OutcomeClass<T extends DomainOutcome> = new (...args: any[]) => T;

/** Registers a class of outcome as an object type implementing `Error`. */
export function errorType<T extends DomainOutcome>(
  cls: OutcomeClass<T>,
  name: string,
  description: string,
  fields?: Parameters<typeof builder.objectType<[], OutcomeClass<T>>>[1]['fields'],
) {
  return builder.objectType(cls, {
    name,
    description,
    // The generic T hides from Pothos that every outcome extends DomainOutcome.
    interfaces: [ErrorInterface] as never,
    isTypeOf: (value) => value instanceof cls,
    fields: fields ?? (() => ({})),
  });
}

const FieldErrorType = builder
  .objectRef<{ path: string[]; message: string }>('FieldError')
  .implement({
    description: 'One bad input field.',
    fields: (t) => ({
      path: t.exposeStringList('path', { description: 'Path of the field inside the `input` argument, e.g. `["location", "latitude"]`.' }),
      message: t.exposeString('message'),
    }),
  });

export const ValidationErrorType = errorType(ValidationError, 'ValidationError', 'The input was refused; `fieldErrors` names every bad field at once.', (t) => ({
  fieldErrors: t.field({ type: [FieldErrorType], resolve: (e) => e.fieldErrors }),
}));
errorType(VerificationRequired, 'VerificationRequired', 'These channels must be verified with the code that was sent to them.', (t) => ({
  channels: t.field({ type: [VerificationChannel], resolve: (e) => e.channels }),
}));
errorType(InvalidCredentials, 'InvalidCredentials', 'The login is unknown or the password is wrong (the API does not tell which).');
errorType(UserNotFound, 'UserNotFound', 'No such user.');
errorType(UserDeactivated, 'UserDeactivated', 'The account is deactivated.');
errorType(UserAlreadyExists, 'UserAlreadyExists', 'An account with this email or phone exists already.');
errorType(InvalidCode, 'InvalidCode', 'The code or token is wrong, used or expired.');
errorType(AlreadyVerified, 'AlreadyVerified', 'This channel is verified already; no code is needed.', (t) => ({
  channel: t.field({ type: VerificationChannel, resolve: (e) => e.channel }),
}));
errorType(CodeCooldown, 'CodeCooldown', 'A code was sent moments ago; ask again later.', (t) => ({
  retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'Seconds to wait at most before a new code can be sent.' }),
}));
errorType(ProductNotFound, 'ProductNotFound', 'No such product, or it is disabled.');
