import { costLimitRule, type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Options of useOperationLimits: how large one operation may be (config: OPERATION_MAX_*). */
export interface OperationLimitsOptions {
  /**
   * Lexical tokens of the document, counted while parsing, which stops past it (OPERATION_MAX_TOKENS).
   * @default 2000
   */
  maxTokens?: number;
  /**
   * Nesting of fields, fragments flattened; introspection (`__schema`) does not count (OPERATION_MAX_DEPTH).
   * @default 10
   */
  maxDepth?: number;
  /**
   * Aliased fields of one operation, through its fragments, `__typename` included
   * (Armor leaves it out by default; 60 aliased `__typename` still cost work): aliases
   * multiply upstream calls (OPERATION_MAX_ALIASES).
   * @default 30
   */
  maxAliases?: number;
  /**
   * Directives of one operation, through its fragments (OPERATION_MAX_DIRECTIVES).
   * @default 20
   */
  maxDirectives?: number;
  /**
   * GraphQL Armor's cost of one operation, introspection aside (OPERATION_MAX_COST).
   * @default 2000
   */
  maxCost?: number;
  /**
   * Root fields of one mutation, through fragments: each one is an upstream write (OPERATION_MAX_MUTATIONS).
   * @default 5
   */
  maxMutationFields?: number;
}

/**
 * Refuses an operation before it runs when it is larger than the limits
 * allow: one request must not block the process or turn into hundreds of
 * upstream calls (e.g. a thousand aliased `completePasswordRecovery`
 * guesses). Tokens are counted by GraphQL Armor's parser, which stops at the
 * limit; depth, aliases, directives and cost are Armor's validation rules,
 * and the mutation count is the gateway's own. Every rule visits each
 * fragment once (Armor memoizes per fragment, so does `mutationFieldsRule`),
 * so a document whose fragments spread each other twice at every level costs
 * time linear in its size, not exponential in its depth.
 *
 * Refusals are `BAD_USER_INPUT` with `extensions.reason: OPERATION_LIMIT`.
 */
export function useOperationLimits(options: OperationLimitsOptions = {}): Plugin {
  const limits: Required<OperationLimitsOptions> = {
    maxTokens: 2000,
    maxDepth: 10,
    maxAliases: 30,
    maxDirectives: 20,
    maxCost: 2000,
    maxMutationFields: 5,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const tokens = maxTokensPlugin({ n: limits.maxTokens, ...refusing(`The document has more than ${limits.maxTokens} tokens.`, 'throw') });
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ...refusing(`The operation nests fields deeper than ${limits.maxDepth} levels.`) }),
    maxAliasesRule({ n: limits.maxAliases, allowList: [], ...refusing(`The operation uses more than ${limits.maxAliases} aliases.`) }),
    maxDirectivesRule({ n: limits.maxDirectives, ...refusing(`The operation uses more than ${limits.maxDirectives} directives.`) }),
    costLimitRule({ maxCost: limits.maxCost, flattenFragments: true, ...refusing(`The operation costs more than ${limits.maxCost}.`) }),
    (context) => mutationFieldsRule(context, limits.maxMutationFields),
  ];
  return {
    onParse: tokens.onParse as Plugin['onParse'],
    onValidate: ({ addValidationRule }) => {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}

export const operationLimitError = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason: 'OPERATION_LIMIT' } });

/**
 * Armor's callbacks, turned into the gateway's error: reported on the
 * validation context (every refusal is listed), or thrown where there is no
 * context (the token count stops the parse).
 */
function refusing(message: string, mode: 'report' | 'throw' = 'report'): Pick<CostLimitOptions, 'onReject' | 'propagateOnRejection'> {
  return {
    propagateOnRejection: false,
    onReject: [
      (context) => {
        if (mode === 'throw' || !context) throw operationLimitError(message);
        context.reportError(operationLimitError(message));
      },
    ],
  };
}

/** Root fields of each mutation, through fragments on Mutation; each fragment counted once and remembered. */
function mutationFieldsRule(context: ValidationContext, max: number): ASTVisitor {
  const counted = new Map<string, number>();
  const fragmentFields = (fragment: FragmentDefinitionNode | undefined | null): number => {
    if (!fragment) return 0;
    const known = counted.get(fragment.name.value);
    if (known !== undefined) return known;
    counted.set(fragment.name.value, 0); // a cycle (refused by graphql-js) counts nothing
    const n = rootFields(fragment.selectionSet);
    counted.set(fragment.name.value, n);
    return n;
  };
  const rootFields = (set: SelectionSetNode): number =>
    set.selections.reduce((n, selection) => {
      if (selection.kind === Kind.FIELD) return n + (selection.name.value.startsWith('__') ? 0 : 1);
      if (selection.kind === Kind.INLINE_FRAGMENT) return n + rootFields(selection.selectionSet);
      return n + fragmentFields(context.getFragment(selection.name.value));
    }, 0);
  return {
    OperationDefinition(node) {
      if (node.operation === 'mutation' && rootFields(node.selectionSet) > max) {
        context.reportError(operationLimitError(`One request may carry at most ${max} mutations.`));
      }
    },
  };
}
