import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { buildSchema, findBreakingChanges, findDangerousChanges, isEnumType, Kind, parse, visit, type OperationTypeNode } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { codegenConfig, printedSchema } from '../codegen.js';
import { schema } from '../src/schema/index.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('generated files', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('match a fresh `npm run codegen` (run it after changing the schema or operations)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gateway-codegen-'));
    dirs.push(dir);
    await generate(codegenConfig(dir), true);
    const fresh = await filesUnder(dir);
    expect(fresh.map((f) => relative(dir, f))).toContain(join('schema', 'schema.graphql'));
    for (const file of ['graphql.ts', 'persisted-documents.json', 'possible-types.ts']) expect(fresh.map((f) => relative(dir, f))).toContain(join('src', 'client', 'generated', file));
    for (const file of fresh) {
      const committed = await readFile(join(process.cwd(), relative(dir, file)), 'utf8');
      expect(committed, `${relative(dir, file)} is stale`).toBe(await readFile(file, 'utf8'));
    }
  });
});

describe('example operations (schema/operations)', () => {
  it('name every root field of the schema, so apps have an operation to copy for each', async () => {
    const dir = join(process.cwd(), 'schema', 'operations');
    const used = new Set<string>();
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.graphql'))) {
      for (const definition of parse(await readFile(join(dir, file), 'utf8')).definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        for (const selection of definition.selectionSet.selections) {
          if (selection.kind === Kind.FIELD) used.add(`${definition.operation satisfies OperationTypeNode}.${selection.name.value}`);
        }
      }
    }
    const roots = { query: schema.getQueryType(), mutation: schema.getMutationType(), subscription: schema.getSubscriptionType() };
    const all = Object.entries(roots).flatMap(([operation, type]) => Object.keys(type?.getFields() ?? {}).map((field) => `${operation}.${field}`));
    expect(all.filter((field) => !used.has(field))).toEqual([]);
  });
});


describe('the public API', () => {
  /** The schema of the last release before the lighter-code work (issue 19): the API must not change against it. */
  const BASELINE = '063ee26';

  function baselineSdl(): string {
    try {
      return execFileSync('git', ['show', `${BASELINE}:schema/schema.graphql`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`cannot read schema/schema.graphql at ${BASELINE} (this test needs git and a full clone, e.g. actions/checkout with fetch-depth: 0): ${reason}`);
    }
  }

  it(`has no breaking and no dangerous change against ${BASELINE}`, () => {
    const before = buildSchema(baselineSdl());
    const changes = [...findBreakingChanges(before, schema), ...findDangerousChanges(before, schema)];
    expect(changes.map((c) => `${c.type}: ${c.description}`)).toEqual([]);
  });

  it('says behaviour, not the gateway\'s settings: no description names an environment variable', () => {
    const enumValues = new Set(Object.values(schema.getTypeMap()).flatMap((type) => (isEnumType(type) ? type.getValues().map((v) => v.name) : [])));
    const named: string[] = [];
    visit(parse(printedSchema), {
      enter: (node) => {
        const description = 'description' in node ? node.description?.value : undefined;
        for (const word of description?.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? []) if (!enumValues.has(word)) named.push(word);
      },
    });
    expect(named).toEqual([]);
  });
});
