import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform, preset as clientPreset } from '@graphql-codegen/client-preset';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './src/schema/index.js';

/**
 * `npm run codegen` writes everything generated from the schema in code:
 * the printed schema (sorted, the contract frontends generate from), and,
 * from the operations in `schema/operations/*.graphql`, the typed documents
 * of the client (`src/client/generated/`, client preset) with the trusted
 * documents manifest `persisted-documents.json` (sha256 hash → document),
 * and `possible-types.ts`, the fragment matcher normalized caches need.
 * `codegenConfig(dir)` writes the same files under another root, which is how
 * the tests prove the committed files are up to date. `npm run codegen` runs
 * scripts/codegen.ts, which checks the operations first and says what it wrote
 * (this file stays a config of the codegen CLI, e.g. for its `--watch`).
 */
export const printedSchema = printSchema(lexicographicSortSchema(schema));

/** The operations apps send; each file a screen or flow. */
export const operationsGlob = `${fileURLToPath(new URL('./schema/operations/', import.meta.url))}*.graphql`;

type OutputConfig = Extract<CodegenConfig['generates'][string], { preset?: unknown }>;

const clientOutput: OutputConfig = {
  documents: operationsGlob,
  // The preset itself, not its name: by name, `generate()` resolves the older
  // copy nested under @graphql-codegen/cli, whose output and hashes differ.
  // (The cast bridges two copies of plugin-helpers' typings.)
  preset: clientPreset as unknown as OutputConfig['preset'],
  // `__typename` in every selection set of the documents (and so of the trusted documents
  // manifest): normalized caches add it to what they send, and under TRUSTED_DOCUMENTS the
  // gateway runs the manifest's text, whose answer must carry it for the cache to match
  // fragments and key objects.
  documentTransforms: [addTypenameSelectionDocumentTransform],
  presetConfig: {
    // Plain result types: a fragment's fields are part of the operation's type.
    fragmentMasking: false,
    // Each document carries `__meta__.hash`, the key of persisted-documents.json.
    persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
  },
  config: {
    // src/ is NodeNext ESM with `verbatimModuleSyntax`.
    useTypeImports: true,
    importExtension: '.js',
    strictScalars: true,
    scalars: { Date: 'string', DateTime: 'string' },
    enumType: 'string-literal',
    nonOptionalTypename: true,
    avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
  },
};

/** What `npm run codegen` writes under `root`, from the operations matching `documents`. */
export function codegenConfig(root = '.', documents = operationsGlob): CodegenConfig {
  return {
    schema: printedSchema,
    generates: {
      [`${root}/schema/schema.graphql`]: { plugins: ['schema-ast'], config: { includeDirectives: false } },
      [`${root}/src/client/generated/`]: { ...clientOutput, documents },
      // The fragment matcher of normalized caches (Apollo Client's `possibleTypes`, urql
      // graphcache's `schema` needs the whole introspection instead): which types each union
      // and interface (`Error`, the payload unions) may be.
      [`${root}/src/client/generated/possible-types.ts`]: { plugins: ['fragment-matcher'], config: { useExplicitTyping: true } },
    },
    silent: true,
  };
}

export default codegenConfig();
