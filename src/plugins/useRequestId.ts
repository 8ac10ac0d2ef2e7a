import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { currentRequest } from '../infra/request-scope.js';

/**
 * Every error of a response carries the request's id as
 * `extensions.requestId`, the same id as the `x-request-id` response header
 * and the request's log lines, so a user's report leads to the logs.
 */
export function useRequestId(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      const id = currentRequest()?.id;
      if (!id || Symbol.asyncIterator in result) return;
      if (Array.isArray(result)) setResult(result.map((r) => withRequestId(r, id)));
      else if (result.errors?.length) setResult(withRequestId(result, id));
    },
  };
}

function withRequestId<T extends { errors?: readonly unknown[] }>(result: T, requestId: string): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => tagged(error, requestId)) };
}

function tagged(error: unknown, requestId: string): unknown {
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
