import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Options of useOperationLimits: how large one operation may be (config: OPERATION_MAX_*). */
export interface OperationLimitsOptions {
  /**
   * Deepest nesting of fields; introspection fields (`__schema`, …) do not count (OPERATION_MAX_DEPTH).
   * @default 10
   */
  maxDepth?: number;
  /**
   * Aliased fields in one document: aliases multiply upstream calls (OPERATION_MAX_ALIASES).
   * @default 30
   */
  maxAliases?: number;
  /**
   * Root fields of one mutation: each one is an upstream write (OPERATION_MAX_MUTATIONS).
   * @default 5
   */
  maxMutationFields?: number;
}

type OperationLimits = Required<OperationLimitsOptions>;

/**
 * Validation rules that refuse an operation before it runs when it is
 * deeper, more aliased or carries more mutations than the limits allow: one
 * request must not turn into hundreds of upstream calls (e.g. a thousand
 * aliased `completePasswordRecovery` guesses).
 */
export function useOperationLimits({ maxDepth = 10, maxAliases = 30, maxMutationFields = 5 }: OperationLimitsOptions = {}): Plugin {
  const limits: OperationLimits = { maxDepth, maxAliases, maxMutationFields };
  return {
    onValidate: ({ addValidationRule }) => {
      addValidationRule((context: ValidationContext) => operationLimitsRule(context, limits));
    },
  };
}

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason: 'OPERATION_LIMIT' } });

function operationLimitsRule(context: ValidationContext, limits: OperationLimits): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  /** Depth of a selection set, following fragments (each once per path). */
  const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!set) return 0;
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, seen));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
      } else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        deepest = Math.max(deepest, depthOf(fragment?.selectionSet, new Set(seen).add(selection.name.value)));
      }
    }
    return deepest;
  };

  /** Root fields of a mutation, through fragments on Mutation. */
  const rootFields = (set: SelectionSetNode, seen: Set<string>): number =>
    set.selections.reduce((count, selection) => {
      if (selection.kind === Kind.FIELD) return count + (selection.name.value.startsWith('__') ? 0 : 1);
      if (selection.kind === Kind.INLINE_FRAGMENT) return count + rootFields(selection.selectionSet, seen);
      const fragment = fragments.get(selection.name.value);
      return seen.has(selection.name.value) || !fragment ? count : count + rootFields(fragment.selectionSet, new Set(seen).add(selection.name.value));
    }, 0);

  let aliases = 0;
  return {
    Field(node) {
      if (node.alias && ++aliases === limits.maxAliases + 1) {
        context.reportError(refuse(`The operation uses more than ${limits.maxAliases} aliases.`));
      }
    },
    OperationDefinition(node) {
      if (depthOf(node.selectionSet, new Set()) > limits.maxDepth) {
        context.reportError(refuse(`The operation nests fields deeper than ${limits.maxDepth} levels.`));
      }
      if (node.operation === 'mutation' && rootFields(node.selectionSet, new Set()) > limits.maxMutationFields) {
        context.reportError(refuse(`One request may carry at most ${limits.maxMutationFields} mutations.`));
      }
    },
  };
}
