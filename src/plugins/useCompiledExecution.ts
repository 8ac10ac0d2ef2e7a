import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { type DocumentNode, type ExecutionArgs, GraphQLInterfaceType, type GraphQLInterfaceTypeConfig, type GraphQLSchema, GraphQLUnionType, type GraphQLUnionTypeConfig, getOperationAST, getVariableValues, type VariableDefinitionNode } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/** One operation of a document, compiled, with what each request needs of it. */
interface Compiled {
  variables: readonly VariableDefinitionNode[];
  execute: (args: ExecutionArgs) => unknown;
}

/**
 * Queries and mutations run as code compiled by graphql-jit, once per
 * operation of a document (yoga's parse cache hands back the same
 * DocumentNode for the same text), keyed by the document and the operation
 * name: a document of several operations (GraphiQL sends its whole editor)
 * runs the one its request names. An operation graphql-jit cannot compile
 * runs on graphql-js's own executor, as do subscriptions: never an error for
 * being uncompilable. Variables that do not coerce also take graphql-js's
 * path, so their errors read as graphql-js words them (with the scalar's own
 * reason), which useBadUserInputCode then strips of values.
 *
 * Our own plugin, not `@envelop/graphql-jit`: that one keeps one compiled
 * query per document whatever the operation name (operation B of a document
 * answered with operation A's result), and compiled each new document twice
 * here (once to learn whether it compiles).
 */
export function useCompiledExecution(): Plugin {
  const compiled = new WeakMap<DocumentNode, Map<string | null, Compiled | null>>();
  /** The schema graphql-jit compiles against, made once per schema yoga runs. */
  const jitSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();

  const compiledFor = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Compiled | null => {
    let byOperation = compiled.get(document);
    if (!byOperation) compiled.set(document, (byOperation = new Map()));
    const name = operationName ?? null;
    let entry = byOperation.get(name);
    if (entry === undefined) {
      entry = compile(schema, document, name);
      byOperation.set(name, entry);
    }
    return entry;
  };

  const compile = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null): Compiled | null => {
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation === 'subscription') return null;
    let jitSchema = jitSchemas.get(schema);
    if (!jitSchema) jitSchemas.set(schema, (jitSchema = passingAbstractType(schema)));
    const query = compileQuery(jitSchema, document, operationName ?? undefined);
    if (!isCompiledQuery(query)) return null;
    return { variables: operation.variableDefinitions ?? [], execute: (args) => withStringify(query, query.query(args.rootValue, args.contextValue, args.variableValues)) };
  };

  return {
    onExecute({ args, setExecuteFn }) {
      const entry = compiledFor(args.schema, args.document, args.operationName);
      if (!entry) return;
      if (entry.variables.length > 0 && getVariableValues(args.schema, entry.variables, args.variableValues ?? {}).errors) return;
      setExecuteFn(entry.execute as never);
    },
  };
}

/** The result with the compiled query's serializer, which yoga's result processing uses. */
function withStringify(query: CompiledQuery, result: ReturnType<CompiledQuery['query']>) {
  const tag = (r: Awaited<typeof result>) => Object.assign(r, { stringify: query.stringify });
  return isThenable(result) ? result.then(tag) : tag(result as Awaited<typeof result>);
}

const isThenable = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * graphql-jit calls `resolveType(value, context, info)` without the fourth
 * argument graphql-js passes, the abstract type itself, which Pothos's
 * resolvers of unions and interfaces rely on. graphql-jit gets a copy of the
 * schema (same fields, resolvers and scalars) whose abstract types pass it
 * (the type of the schema yoga runs, as graphql-js would); that schema is
 * left as it is.
 */
function passingAbstractType(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.ABSTRACT_TYPE]: (type) => {
      const { resolveType } = type;
      if (!resolveType) return type;
      const config = { ...type.toConfig(), resolveType: ((value, context, info, abstractType) => resolveType(value, context, info, abstractType ?? type)) as typeof resolveType };
      return type instanceof GraphQLUnionType ? new GraphQLUnionType(config as GraphQLUnionTypeConfig<unknown, unknown>) : new GraphQLInterfaceType(config as GraphQLInterfaceTypeConfig<unknown, unknown>);
    },
  });
}
