import type { RequestScope } from './request-scope.js';

/**
 * The moment by which a piece of work must be done, e.g. one GraphQL
 * operation (REQUEST_TIMEOUT_MS), shared by every upstream call it makes: a
 * call is cut at the earlier of this and its own timeout. It is one number:
 * a request pays one small object, and no timer, AbortController or
 * DOMException (UpstreamHttp arms one timer per call anyway). It also
 * names the request it bounds (`request`), since every upstream call of an
 * operation carries it: that call's log lines and counts belong there.
 */
export class Deadline {
  /** `at` is a `performance.now()` time in ms. */
  private constructor(
    readonly at: number,
    readonly request: RequestScope | undefined,
  ) {}

  /** A deadline `ms` from now, of `request` when given. */
  static after(ms: number, request?: RequestScope): Deadline {
    return new Deadline(performance.now() + ms, request);
  }

  /** Milliseconds left; 0 or less once it has passed. */
  remainingMs(): number {
    return this.at - performance.now();
  }
}
