import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { codegenConfig } from '../codegen.js';

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
    for (const file of fresh) {
      const committed = await readFile(join(process.cwd(), relative(dir, file)), 'utf8');
      expect(committed, `${relative(dir, file)} is stale`).toBe(await readFile(file, 'utf8'));
    }
  });
});
