import type { CodegenConfig } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './src/schema/index.js';

/**
 * `npm run codegen` writes everything generated from the schema in code:
 * the printed schema (sorted, the contract frontends generate from).
 * `codegenConfig(dir)` writes the same files under another root, which is how
 * the tests prove the committed files are up to date.
 */
export const printedSchema = printSchema(lexicographicSortSchema(schema));

export function codegenConfig(root = '.'): CodegenConfig {
  return {
    schema: printedSchema,
    generates: {
      [`${root}/schema/schema.graphql`]: { plugins: ['schema-ast'], config: { includeDirectives: false } },
    },
    silent: true,
  };
}

export default codegenConfig();
