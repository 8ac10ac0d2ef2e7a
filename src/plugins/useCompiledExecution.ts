import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, type GraphQLSchema, getOperationAST, getVariableValues, isAbstractType } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Queries and mutations run as code compiled by graphql-jit, once per
 * document (yoga's parse cache hands back the same DocumentNode for the same
 * text). A document graphql-jit cannot compile runs on graphql-js's own
 * executor, as do subscriptions: never an error for being uncompilable.
 * Variables that do not coerce also take graphql-js's path, so their errors
 * read as graphql-js words them (with the scalar's own reason), which
 * useBadUserInputCode then strips of values.
 */
export function useCompiledExecution(): Plugin {
  const compiles = new WeakMap<DocumentNode, Map<string | null, boolean>>();
  const prepared = new WeakSet<GraphQLSchema>();
  return useGraphQlJit({}, {
    enableIf: ({ schema, document, operationName, variableValues }) => {
      if (!prepared.has(schema)) {
        passAbstractType(schema);
        prepared.add(schema);
      }
      const byOperation = compiles.get(document) ?? new Map<string | null, boolean>();
      compiles.set(document, byOperation);
      let ok = byOperation.get(operationName ?? null);
      const operation = getOperationAST(document, operationName);
      if (ok === undefined) {
        ok = operation?.operation !== 'subscription' && isCompiledQuery(compileQuery(schema, document, operationName ?? undefined));
        byOperation.set(operationName ?? null, ok);
      }
      const variables = operation?.variableDefinitions ?? [];
      return ok && (variables.length === 0 || !getVariableValues(schema, variables, variableValues ?? {}).errors);
    },
    onError: () => {},
  }) as Plugin;
}

/**
 * graphql-jit calls `resolveType(value, context, info)` without the fourth
 * argument graphql-js passes, the abstract type itself, which Pothos's
 * resolvers of unions and interfaces rely on. Each one gets it back here.
 */
function passAbstractType(schema: GraphQLSchema) {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isAbstractType(type) || !type.resolveType) continue;
    const resolveType = type.resolveType;
    type.resolveType = (value, context, info, abstractType) => resolveType(value, context, info, abstractType ?? type);
  }
}
