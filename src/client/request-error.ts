/** One GraphQL error of a response, as the gateway sends it. */
export interface GatewayError {
  message: string;
  path?: ReadonlyArray<string | number>;
  /** `code` is one of shared/API.md's (`UNAUTHENTICATED`, `RATE_LIMITED`, …). */
  extensions?: { code?: string; [key: string]: unknown };
}

/**
 * A request failed as a whole: the response had GraphQL errors (the codes of
 * shared/API.md), or was no GraphQL response at all. Domain outcomes are not
 * failures: they are the payload unions' error members, in the data.
 */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';

  constructor(
    /** The GraphQL errors; one synthetic error when the answer was not GraphQL. */
    readonly errors: readonly GatewayError[],
    /** The HTTP status, or 101 for a graphql-ws subscription. */
    readonly status: number,
    /** The partial data that came with the errors, if any. */
    readonly data?: unknown,
  ) {
    super(errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message)).join('; ') || `HTTP ${status}`);
  }

  /** The `extensions.code` of each error, e.g. `['UNAUTHENTICATED']`. */
  get codes(): string[] {
    return this.errors.map((e) => e.extensions?.code ?? 'UNKNOWN');
  }
}
