import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, print, type DocumentNode } from 'graphql';
import { createClient, type Client as WsClient, type SubscribePayload } from 'graphql-ws';
import { GatewayRequestError, type GatewayError } from './request-error.js';
import { SessionToken } from './session.js';

/**
 * A small typed client of the gateway, for the documents that `npm run
 * codegen` generates from `schema/operations/` into `./generated/graphql.js`:
 *
 * ```ts
 * const client = new GatewayClient({ url: 'http://localhost:4000/graphql' });
 * const { login } = await client.execute(LoginDocument, { input: { login, password } });
 * if (login.__typename === 'AuthSuccess') { ... } // the client keeps login.session.token
 * for await (const { accountEvents } of client.subscribe(AccountEventsDocument)) { ... }
 * ```
 *
 * Queries and mutations go over `fetch` (POST), subscriptions over graphql-ws.
 * Subscriptions outlive restarts: after a retryable close (a deploy's 1012,
 * 1013, a dropped network) or a refused connection, the client reconnects
 * with backoff and resubscribes with `after` set to the last event id it
 * saw, so nothing is missed and nothing repeats; a 4403 (the session ended
 * or is refused) ends them at once with an UNAUTHENTICATED error.
 * The session token lives in `client.session` (see ./session.ts): set by every
 * AuthSuccess, cleared by a logout or an account deletion, sent as
 * `Authorization: Bearer` over HTTP and as `connectionParams.authorization`
 * over graphql-ws.
 * Its reconnect backoff (`reconnectDelayMs`) is its own, not infra/backoff.ts: apps copy client/ alone, so it imports neither infra/ (test/layout.test.ts) nor cockatiel.
 */
export interface GatewayClientOptions {
  /** The gateway's `/graphql` URL, `http:` or `https:`. */
  url: string;
  /** The graphql-ws URL. Default: `url` with `ws:` or `wss:`. */
  wsUrl?: string;
  /**
   * Send each document's hash (`extensions.persistedQuery.sha256Hash`)
   * instead of its text, as a gateway with TRUSTED_DOCUMENTS requires.
   * Default false: the text is sent.
   */
  persisted?: boolean;
  /** A session token to start with, e.g. one restored from the keychain. Default none. */
  token?: string | null;
  /** Called whenever the session token changes (`null`: signed out); persist it here. */
  onSessionChange?: (token: string | null) => void;
  /** Headers added to every HTTP request. Default none. */
  headers?: Record<string, string>;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** WebSocket class for graphql-ws. Default `globalThis.WebSocket`, else the `ws` package's. */
  webSocketImpl?: unknown;
  /** Reconnecting subscriptions; see ReconnectOptions. */
  reconnect?: ReconnectOptions;
}

/**
 * How the graphql-ws socket comes back after a retryable close or a refused
 * connection: attempt n waits a random time between half and all of
 * `min(maxDelayMs, minDelayMs * 2^n)` ("equal jitter", so a fleet of apps
 * spreads out after a deploy). The count starts again once a socket is up.
 */
export interface ReconnectOptions {
  /** Attempts in a row before subscriptions fail. Default Infinity. 0: never reconnect. */
  attempts?: number;
  /** @default 500 */
  minDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

/** Close codes after which reconnecting cannot help (graphql-ws itself also gives up on 4400, 4406, 4409, 4429, 4500). */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4403]);

/** Whether graphql-ws should try again after `errOrClose`: a close event of a retryable code, or a connection error (refused, reset). */
export function shouldReconnect(errOrClose: unknown): boolean {
  if (errOrClose !== null && typeof errOrClose === 'object' && 'code' in errOrClose && typeof errOrClose.code === 'number') {
    return !FATAL_CLOSE_CODES.has(errOrClose.code);
  }
  return true;
}

/** The wait before reconnect attempt `attempt` (0 for the first). */
export function reconnectDelayMs(attempt: number, minDelayMs = 500, maxDelayMs = 30_000): number {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
  return cap / 2 + Math.random() * (cap / 2);
}

/** The variables argument: optional when the operation has none. */
export type VariablesArg<TVariables> = {} extends TVariables ? [variables?: TVariables] : [variables: TVariables];

interface GraphQLResponse {
  data?: unknown;
  errors?: GatewayError[];
}

export class GatewayClient {
  /** The session token: read it, or set one restored from storage. */
  readonly session: SessionToken;
  private readonly url: string;
  private readonly wsUrl: string;
  private readonly persisted: boolean;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;
  private readonly webSocketImpl: unknown;
  private readonly reconnect: Required<ReconnectOptions>;
  private socket: Promise<WsClient> | undefined;
  private readonly texts = new WeakMap<DocumentNode, string>();

  constructor(options: GatewayClientOptions) {
    this.url = options.url;
    this.wsUrl = options.wsUrl ?? options.url.replace(/^http/, 'ws');
    this.persisted = options.persisted ?? false;
    this.headers = options.headers ?? {};
    this.fetch = options.fetch ?? globalThis.fetch;
    this.webSocketImpl = options.webSocketImpl;
    this.reconnect = { attempts: Infinity, minDelayMs: 500, maxDelayMs: 30_000, ...options.reconnect };
    this.session = new SessionToken((token) => {
      // A socket authenticates once, when it connects: it is closed (its
      // subscriptions, of the old session, end) and the next subscription
      // opens one with the new token.
      this.closeSocket();
      options.onSessionChange?.(token);
    });
    if (options.token) this.session.set(options.token);
  }

  /**
   * Runs a query or mutation and resolves with its typed data. GraphQL errors
   * (UNAUTHENTICATED, RATE_LIMITED, …) reject with a GatewayRequestError.
   */
  async execute<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, ...[variables]: VariablesArg<TVariables>): Promise<TResult> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...this.headers,
    };
    const authorization = this.session.authorization;
    if (authorization) headers['authorization'] = authorization;
    const response = await this.fetch(this.url, { method: 'POST', headers, body: JSON.stringify(this.payload(document, variables)) });
    let body: GraphQLResponse;
    try {
      body = (await response.json()) as GraphQLResponse;
    } catch {
      throw new GatewayRequestError([{ message: `HTTP ${response.status}: not a GraphQL response` }], response.status);
    }
    return this.settle<TResult>(body, response.status);
  }

  /**
   * Runs a subscription over graphql-ws and yields each event's typed data.
   * When the operation declares an `$after` variable (AccountEvents does),
   * every resubscription after a reconnect sends the `id` of the last event
   * received as `after`. An error message, a 4403 or running out of
   * reconnect attempts ends it with a GatewayRequestError; `break` (or
   * `return()`) unsubscribes.
   */
  async *subscribe<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, ...[variables]: VariablesArg<TVariables>): AsyncGenerator<TResult, void, undefined> {
    const socket = await this.openSocket();
    // graphql-ws sends this very object again on each resubscription: `after` is kept current in it.
    const payload = this.payload(document, variables);
    const resumes = declaresAfter(document);
    const results = socket.iterate(payload);
    try {
      for await (const result of results) {
        const data = this.settle<TResult>(result as GraphQLResponse, 101);
        if (resumes) {
          const id = lastEventId(data);
          if (id !== null) payload.variables.after = id;
        }
        yield data;
      }
    } catch (error) {
      throw toRequestError(error);
    } finally {
      await results.return?.();
    }
  }

  /** Closes the graphql-ws socket, if one is open (active subscriptions end). */
  close(): void {
    this.closeSocket();
  }

  private settle<TResult>(body: GraphQLResponse, status: number): TResult {
    if (body.errors?.length) throw new GatewayRequestError(body.errors, status, body.data);
    if (body.data === undefined || body.data === null) {
      throw new GatewayRequestError([{ message: `HTTP ${status}: a response without data or errors` }], status);
    }
    this.session.observe(body.data);
    return body.data as TResult;
  }

  private payload(document: DocumentNode, variables: unknown): SubscribePayload & { variables: Record<string, unknown> } {
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const operationName = operation?.name?.value ?? null;
    const vars = { ...(variables ?? {}) } as Record<string, unknown>;
    if (this.persisted) {
      const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
      if (typeof hash !== 'string') throw new TypeError(`${operationName ?? 'This document'} has no hash: generate it with persistedDocuments (codegen.ts)`);
      // graphql-ws needs a `query` string; the gateway refuses any non-empty one.
      return { query: '', operationName, variables: vars, extensions: { persistedQuery: { version: 1, sha256Hash: hash.replace(/^sha256:/, '') } } };
    }
    let text = this.texts.get(document);
    if (text === undefined) {
      text = print(document);
      this.texts.set(document, text);
    }
    return { query: text, operationName, variables: vars };
  }

  private openSocket(): Promise<WsClient> {
    this.socket ??= (async () =>
      createClient({
        url: this.wsUrl,
        webSocketImpl: this.webSocketImpl ?? globalThis.WebSocket ?? (await import('ws')).default,
        connectionParams: () => {
          const authorization = this.session.authorization;
          return authorization ? { authorization } : {};
        },
        lazy: true,
        retryAttempts: this.reconnect.attempts,
        retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(retries, this.reconnect.minDelayMs, this.reconnect.maxDelayMs))),
        shouldRetry: shouldReconnect,
      }))();
    return this.socket;
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    void socket?.then((client) => client.dispose());
  }
}

/** Whether the operation has a variable named `after` (a resumable subscription). */
function declaresAfter(document: DocumentNode): boolean {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operation?.variableDefinitions?.some((v) => v.variable.name.value === 'after') ?? false;
}

/** The `id` of the event in a subscription result (its one root field's value). */
function lastEventId(data: unknown): string | null {
  if (data === null || typeof data !== 'object') return null;
  const [root] = Object.values(data);
  if (root === null || typeof root !== 'object' || !('id' in root)) return null;
  return typeof root.id === 'string' ? root.id : null;
}

/** graphql-ws rejects with the server's error list, or with the socket's close event. */
function toRequestError(error: unknown): GatewayRequestError {
  if (error instanceof GatewayRequestError) return error;
  if (Array.isArray(error)) return new GatewayRequestError(error as GatewayError[], 101);
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'number') {
    const reason = 'reason' in error && typeof error.reason === 'string' ? error.reason : '';
    // 4403: the session ended (after SessionExpired) or was refused; sign in again.
    const code = error.code === 4403 ? 'UNAUTHENTICATED' : 'SOCKET_CLOSED';
    return new GatewayRequestError([{ message: `The socket closed: ${error.code} ${reason}`.trim(), extensions: { code, closeCode: error.code } }], 101);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayRequestError([{ message, extensions: { code: 'SOCKET_ERROR' } }], 101);
}
