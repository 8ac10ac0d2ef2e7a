import type { IncomingMessage } from 'node:http';

/**
 * What belongs to one request (an HTTP request, or one graphql-ws
 * operation): its id (on its log lines, its errors and the `x-request-id`
 * header), the number of upstream calls made for it, and what its access
 * log line says of the operation.
 *
 * Passed explicitly, never through AsyncLocalStorage: on Node 20 an enabled
 * AsyncLocalStorage runs an async hook for every promise of the process,
 * about 15-20 µs per request (test/bench). The HTTP handler of
 * src/gateway.ts attaches it to the IncomingMessage (`scopeOf`), the context
 * (src/schema/context.ts) puts it into the operation's Deadline, which every
 * upstream call carries (src/upstream/observer.ts counts the calls there).
 */
export class RequestScope {
  upstreamCalls = 0;
  /** The operation's name as sent or in the document (a GraphQL name), and its type; null until parsed. */
  operation: string | null = null;
  type: string | null = null;
  /** Whether the operation asks for `__schema` or `__type` and nothing else but `__typename` (GraphiQL's introspection): its access line is at debug. */
  introspection = false;
  /** Error codes of the results (with repeats; the access line lists each once). */
  codes: string[] | undefined;
  readonly started = performance.now();

  constructor(readonly id: string) {}

  /** Milliseconds since the request began, rounded. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }
}

const scopes = new WeakMap<IncomingMessage, RequestScope>();

/** Attaches `scope` to the HTTP request it belongs to. */
export function enterScope(req: IncomingMessage, scope: RequestScope): RequestScope {
  scopes.set(req, scope);
  return scope;
}

/**
 * The scope of a request: a graphql-ws operation's own (`requestScope` of
 * its initial context), else the one the gateway's handler gave the HTTP
 * request `req`, if any.
 */
export function scopeOf(req: IncomingMessage | undefined, requestScope?: RequestScope): RequestScope | undefined {
  return requestScope ?? (req && scopes.get(req));
}
