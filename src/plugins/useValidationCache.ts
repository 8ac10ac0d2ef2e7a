// In place of yoga's validation cache (parserAndValidationCache.validationCache, 5.24): that one joins the rules' names into its key on every request.
import type { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Validation results by document (yoga's parse cache hands back the same
 * DocumentNode for the same text), reused while the schema and the rules are
 * the same objects. In yoga's place (`parserAndValidationCache.validationCache:
 * false`): yoga's cache keys its results by the rules' names, joined into a
 * string on every request, a few µs each. Here the rules are compared by
 * identity, so the plugins that add rules must add the same functions every
 * time (src/plugins/useOperationLimits.ts, useNoIntrospection.ts and Armor's
 * do); a rule made per request would only make every validation run again.
 *
 * It must come after every plugin that adds a rule (the last of the
 * gateway's plugins): it sees the rules as they stand when its hook runs.
 */
export function useValidationCache(): Plugin {
  const results = new WeakMap<DocumentNode, { schema: GraphQLSchema; rules: readonly ValidationRule[] | undefined; errors: readonly GraphQLError[] }>();
  return {
    onValidate({ params: { schema, documentAST, rules }, setResult }) {
      const known = results.get(documentAST);
      if (known && known.schema === schema && sameRules(known.rules, rules)) {
        setResult(known.errors);
        return;
      }
      const validatedWith = rules && [...rules];
      return ({ result }) => {
        // Armor's validation hooks report GraphQLErrors; envelop types them as plain Errors here.
        results.set(documentAST, { schema, rules: validatedWith, errors: result as readonly GraphQLError[] });
      };
    },
  };
}

function sameRules(a: readonly ValidationRule[] | undefined, b: readonly ValidationRule[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
