import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Variables that do not coerce to their GraphQL type (`birthday: "17.04.1990"`
 * for a `Date`) fail before any resolver runs. graphql-js gives those errors
 * no code and prints the offending value into the message, which may be a
 * password or a code. This plugin tags them BAD_USER_INPUT, as
 * shared/API.md promises for bad input, and keeps only where and why.
 */
export interface BadUserInputCodeOptions {
  /**
   * Keep graphql-js's "Did you mean the enum value …?" (config
   * FIELD_SUGGESTIONS; validation's own suggestions are GraphQL Armor's
   * block-field-suggestions). Off, an enum's values are not told.
   * @default true
   */
  suggestions?: boolean;
}

export function useBadUserInputCode({ suggestions = true }: BadUserInputCodeOptions = {}): Plugin {
  const clean = (message: string) => (suggestions ? withoutValues(message) : withoutSuggestions(withoutValues(message)));
  // One hook object for every operation, not one per execution.
  const done: ReturnType<NonNullable<Plugin['onExecute']>> = {
    onExecuteDone: ({ result, setResult }) => {
      if (!('errors' in result) || !result.errors?.length || result.data !== undefined) return;
      setResult({
        ...result,
        errors: result.errors.map((error) =>
          error.path === undefined && error.extensions?.code === undefined
            ? new GraphQLError(clean(error.message), { nodes: error.nodes, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } })
            : error,
        ),
      });
    },
  };
  return { onExecute: () => done };
}

/**
 * `Variable "$input" got invalid value { password: "…" } at "input.code"; Expected type "Int". Int cannot represent non-integer value: "12a"`
 * becomes `Variable "$input" got an invalid value at "input.code"; Expected type "Int". Int cannot represent non-integer value.`
 */
export function withoutValues(message: string): string {
  const variable = /^Variable "(\$[^"]+)" got invalid value [\s\S]*?(?:( at "[^"]*")|)(; [\s\S]*)$/.exec(message);
  if (!variable) return message.replace(/value: [\s\S]*$/, 'value.');
  const [, name, at = '', reason = ''] = variable;
  return `Variable "${name}" got an invalid value${at}${reason.replace(/value: [\s\S]*$/, 'value.').replace(/Value "[^"]*" does/, 'The value does')}`;
}

/** `… Did you mean the enum value "EN"?` loses its last sentence. */
export const withoutSuggestions = (message: string) => message.replace(/\s*Did you mean [^?]*\?\s*$/, '');
