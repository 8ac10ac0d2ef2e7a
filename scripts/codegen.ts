/**
 * `npm run codegen`: checks the operations of schema/operations/ against the
 * schema, then writes what codegen.ts generates and says which files it
 * wrote. On an error it names the file, line, operation and field, and
 * writes nothing. The codegen CLI does not serve here: its output is a task
 * list, it names no operation, and silent it says only that errors occurred.
 *
 *   npm run codegen [-- --operations <dir> --out <root>]
 *
 * `--operations` reads the operations from another directory, `--out`
 * writes under another root (both for trying a change in a copy).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import { GraphQLError, Kind, parse, Source, validate, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { codegenConfig } from '../codegen.js';
import { schema } from '../src/schema/index.js';

const { values: args } = parseArgs({ options: { operations: { type: 'string', default: 'schema/operations' }, out: { type: 'string', default: '.' } } });
const operationsDir = resolve(args.operations);
const out = resolve(args.out);
/** A path as the reader typed it: relative inside the working directory, else absolute. */
const shown = (path: string) => {
  const inside = relative(process.cwd(), path);
  return inside === '' ? '.' : inside.startsWith('..') ? path : inside;
};

/** Every definition of the operation files, or the syntax errors of those that do not parse. */
async function readDefinitions(): Promise<{ definitions: DefinitionNode[]; problems: string[] }> {
  const files = (await readdir(operationsDir)).filter((f) => f.endsWith('.graphql')).sort();
  const definitions: DefinitionNode[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const path = join(operationsDir, file);
    try {
      definitions.push(...parse(new Source(await readFile(path, 'utf8'), shown(path))).definitions);
    } catch (error) {
      problems.push(describe(error as GraphQLError));
    }
  }
  return { definitions, problems };
}

/** `file:line:column: message` of a GraphQL error. */
function describe(error: GraphQLError, context = ''): string {
  const source = error.source ?? error.nodes?.[0]?.loc?.source;
  const at = error.locations?.[0];
  return `${source?.name ?? '?'}:${at ? `${at.line}:${at.column}` : '?'}: ${context}${error.message}`;
}

/** Each operation validated with the fragments it spreads; an error met by several operations is told once, naming them all. */
function validateOperations(definitions: DefinitionNode[]): string[] {
  const fragments = new Map(definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const found = new Map<string, { error: GraphQLError; operations: string[]; field?: string; fragment?: string }>();
  for (const operation of definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
    const name = operation.name?.value ?? '(anonymous)';
    const used = new Map<string, FragmentDefinitionNode>();
    const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
      visit(node, {
        FragmentSpread({ name: { value } }) {
          const fragment = fragments.get(value);
          if (!fragment || used.has(value)) return;
          used.set(value, fragment);
          collect(fragment);
        },
      });
    collect(operation);
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] };
    for (const error of validate(schema, document)) {
      const key = describe(error);
      const node = error.nodes?.[0];
      // The fragment the error is in, if it is not in the operation itself.
      const fragment = [...used.values()].find((f) => node?.loc && f.loc && node.loc.source === f.loc.source && node.loc.start >= f.loc.start && node.loc.end <= f.loc.end);
      const entry = found.get(key) ?? { error, operations: [], field: node?.kind === Kind.FIELD ? node.name.value : undefined, fragment: fragment?.name.value };
      entry.operations.push(name);
      found.set(key, entry);
    }
  }
  return [...found.values()].map(({ error, operations, field, fragment }) => {
    const where = `${operations.length > 1 ? 'operations' : 'operation'} ${operations.join(', ')}`;
    return describe(error, `${fragment ? `fragment ${fragment} (spread by ${where})` : where}${field ? `, field ${field}` : ''}: `);
  });
}

const { definitions, problems } = await readDefinitions();
problems.push(...validateOperations(definitions));
if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`codegen: ${problems.length} error${problems.length > 1 ? 's' : ''} in ${shown(operationsDir)}; nothing written`);
  process.exit(1);
}

let outputs;
try {
  outputs = await generate({ ...codegenConfig(out, `${operationsDir}/*.graphql`), silent: true }, false);
} catch (error) {
  console.error(`codegen: ${error instanceof Error ? error.message : String(error)}\ncodegen: nothing written`);
  process.exit(1);
}
console.log(`codegen: ${outputs.length} files from the schema and ${shown(operationsDir)}:`);
for (const { filename, content } of outputs) {
  const was = await readFile(filename, 'utf8').catch(() => null);
  if (was !== content) {
    await mkdir(dirname(filename), { recursive: true });
    await writeFile(filename, content);
  }
  console.log(`  ${was === content ? 'unchanged' : was === null ? 'created  ' : 'updated  '} ${shown(filename)}`);
}
