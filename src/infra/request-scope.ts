import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What belongs to one HTTP request wherever its work runs: the request id
 * (on every log line of the request) and the number of upstream calls made
 * for it (in its access log line). Entered once per request by the HTTP
 * handler of src/gateway.ts; code outside a request sees `undefined`.
 */
export interface RequestScope {
  readonly id: string;
  upstreamCalls: number;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` (and all it awaits) inside `scope`. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request this code runs for, if any. */
export function currentRequest(): RequestScope | undefined {
  return storage.getStore();
}
