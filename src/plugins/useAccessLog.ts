import type { IncomingMessage } from 'node:http';
import { getOperationAST, GraphQLError, Kind, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { scopeOf, type RequestScope } from '../infra/request-scope.js';

export interface AccessLogOptions {
  /** Where the lines go (info level; debug for introspection). */
  logger: Logger;
  /** Counts the error codes (`gateway_graphql_errors_total`) and observes the operation histogram. */
  metrics: Metrics;
}

/**
 * What the access log knows of an operation, in its request's scope
 * (src/infra/request-scope.ts): the operation's name and type once parsed,
 * and the error codes of its results. Every error of a response gets the
 * request's id as `extensions.requestId` (the `x-request-id` header and the
 * request's log lines carry the same id), and each error code is counted.
 *
 * Two hooks, and no other per-request work: the line itself is written by
 * `writeAccessLine` when the response has ended (src/gateway.ts), or the
 * graphql-ws operation completed (src/transport/graphql-ws.ts).
 */
export function useAccessLog({ metrics }: Pick<AccessLogOptions, 'metrics'>): Plugin<{ req?: IncomingMessage; requestScope?: RequestScope }> {
  return {
    onParse({ context }) {
      const scope = scopeOf(context.req, context.requestScope);
      if (!scope) return;
      scope.operation = cleanName(context.params?.operationName);
      return ({ result }) => {
        if (result && !(result instanceof Error)) describeOperation(scope, result as DocumentNode);
      };
    },
    onResultProcess({ result, setResult, serverContext }) {
      const scope = scopeOf((serverContext as { req?: IncomingMessage }).req);
      if (!scope || Symbol.asyncIterator in result) return;
      if (Array.isArray(result)) setResult(result.map((r) => withRequestId(r, scope, metrics)));
      else if (result.errors?.length) setResult(withRequestId(result, scope, metrics));
    },
  };
}

/** The operation's type, and its name when the request gave none, from the parsed document. */
export function describeOperation(scope: RequestScope, document: DocumentNode): void {
  const ast = getOperationAST(document, scope.operation);
  scope.type = ast?.operation ?? null;
  scope.operation ??= cleanName(ast?.name?.value);
  const fields = ast?.selectionSet.selections ?? [];
  scope.introspection = fields.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')) && fields.some((s) => s.kind === Kind.FIELD && s.name.value !== '__typename');
}

/**
 * The access log line of an operation: name and type, duration in ms,
 * status (HTTP, or null over graphql-ws), error codes, upstream calls, and
 * the request id, at info (at debug for an introspection-only operation).
 * Never variables, the document or a header. Also observes
 * the operation duration histogram. Nothing when the request ran no
 * operation (GraphiQL, a refused body).
 */
export function writeAccessLine({ logger, metrics }: AccessLogOptions, scope: RequestScope, status: number | null): void {
  if (scope.type === null && scope.operation === null && scope.codes === undefined) return;
  const ms = performance.now() - scope.started;
  metrics.operation(scope.operation, scope.type, ms / 1000);
  const fields = {
    requestId: scope.id,
    operation: scope.operation,
    type: scope.type,
    status,
    ms: Math.round(ms),
    errors: scope.codes ? [...new Set(scope.codes)] : [],
    upstreamCalls: scope.upstreamCalls,
  };
  // GraphiQL introspects on every load: at info that would be most of a developer's terminal.
  if (scope.introspection) logger.debug('graphql operation', fields);
  else logger.info('graphql operation', fields);
}

/** `result` with the request id in each error's extensions; each error's code counted and kept for the access line. */
export function withRequestId<T extends { errors?: readonly unknown[] }>(result: T, scope: RequestScope, metrics: Metrics): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => tagged(error, scope, metrics)) };
}

function tagged(error: unknown, scope: RequestScope, metrics: Metrics): unknown {
  const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
  metrics.graphqlError(code);
  (scope.codes ??= []).push(typeof code === 'string' ? code.slice(0, 40) : 'INTERNAL_SERVER_ERROR');
  const requestId = scope.id;
  if (error instanceof GraphQLError) {
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: { ...error.extensions, requestId },
    });
  }
  const plain = error as { extensions?: Record<string, unknown> };
  return { ...plain, extensions: { ...plain.extensions, requestId } };
}

/** An operation name as sent, if it is a GraphQL name (else it is not logged). */
function cleanName(name: string | null | undefined): string | null {
  return typeof name === 'string' && /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name) ? name : null;
}
