import { GraphQLError, type FieldNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses `__schema` and `__type` (config INTROSPECTION=false, the default
 * with NODE_ENV=production), as graphql-js's NoSchemaIntrospectionCustomRule
 * does, but with the gateway's error code and on every transport: yoga's
 * plugin-disable-introspection decides per HTTP request and so leaves
 * graphql-ws open. `__typename` stays allowed.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(noIntrospectionRule),
  };
}

/** One rule for every validation (useValidationCache compares the rules by identity). */
function noIntrospectionRule(context: ValidationContext) {
  return {
    Field(node: FieldNode) {
      if (node.name.value !== '__schema' && node.name.value !== '__type') return;
      context.reportError(
        new GraphQLError(`Introspection is disabled on this gateway: "${node.name.value}" is not available.`, {
          nodes: node,
          extensions: { code: 'BAD_USER_INPUT', reason: 'INTROSPECTION_DISABLED' },
        }),
      );
    },
  };
}
