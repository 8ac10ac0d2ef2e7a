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
 * The session token lives in `client.session` (see ./session.ts): set by every
 * AuthSuccess, cleared by a logout or an account deletion, sent as
 * `Authorization: Bearer` over HTTP and as `connectionParams.authorization`
 * over graphql-ws.
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
  private socket: Promise<WsClient> | undefined;
  private readonly texts = new WeakMap<DocumentNode, string>();

  constructor(options: GatewayClientOptions) {
    this.url = options.url;
    this.wsUrl = options.wsUrl ?? options.url.replace(/^http/, 'ws');
    this.persisted = options.persisted ?? false;
    this.headers = options.headers ?? {};
    this.fetch = options.fetch ?? globalThis.fetch;
    this.webSocketImpl = options.webSocketImpl;
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
   * An error message or an unexpected close ends it with a GatewayRequestError;
   * `break` (or `return()`) unsubscribes.
   */
  async *subscribe<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, ...[variables]: VariablesArg<TVariables>): AsyncGenerator<TResult, void, undefined> {
    const socket = await this.openSocket();
    const results = socket.iterate(this.payload(document, variables));
    try {
      for await (const result of results) yield this.settle<TResult>(result as GraphQLResponse, 101);
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

  private payload(document: DocumentNode, variables: unknown): SubscribePayload & Record<string, unknown> {
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const operationName = operation?.name?.value ?? null;
    const vars = (variables ?? {}) as Record<string, unknown>;
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
        retryAttempts: 0,
      }))();
    return this.socket;
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    void socket?.then((client) => client.dispose());
  }
}

/** graphql-ws rejects with the server's error list, or with the socket's close event. */
function toRequestError(error: unknown): GatewayRequestError {
  if (error instanceof GatewayRequestError) return error;
  if (Array.isArray(error)) return new GatewayRequestError(error as GatewayError[], 101);
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'number') {
    const reason = 'reason' in error && typeof error.reason === 'string' ? error.reason : '';
    return new GatewayRequestError([{ message: `The socket closed: ${error.code} ${reason}`.trim(), extensions: { code: 'SOCKET_CLOSED', closeCode: error.code } }], 101);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayRequestError([{ message, extensions: { code: 'SOCKET_ERROR' } }], 101);
}
