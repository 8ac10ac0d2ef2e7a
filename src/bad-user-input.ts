import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Variables that do not coerce to their GraphQL type (`birthday: "17.04.1990"`
 * for a `Date`) fail before any resolver runs, and graphql-js gives those
 * errors no code. They are bad input: this plugin tags them BAD_USER_INPUT,
 * as shared/API.md promises for every bad-input failure.
 */
export function useBadUserInputCode(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (!('errors' in result) || !result.errors?.length || result.data !== undefined) return;
        setResult({
          ...result,
          errors: result.errors.map((error) =>
            error.path === undefined && error.extensions?.code === undefined
              ? new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } })
              : error,
          ),
        });
      },
    }),
  };
}
