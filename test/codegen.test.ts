import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `npm run codegen` (scripts/codegen.ts) on a copy of schema/operations/, writing under a temp root. */
function codegen(operations: string, out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/codegen.ts', '--operations', operations, '--out', out], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('npm run codegen', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  async function copyOfOperations() {
    const dir = await mkdtemp(join(tmpdir(), 'gateway-codegen-ops-'));
    dirs.push(dir);
    await cp('schema/operations', join(dir, 'operations'), { recursive: true });
    return { operations: join(dir, 'operations'), out: join(dir, 'out') };
  }

  it('says which files it wrote', async () => {
    const { operations, out } = await copyOfOperations();
    const { code, output } = await codegen(operations, out);
    expect(code, output).toBe(0);
    const written = ['schema/schema.graphql', 'src/client/generated/graphql.ts', 'src/client/generated/persisted-documents.json', 'src/client/generated/possible-types.ts'];
    for (const file of written) {
      expect(output).toContain(`created   ${join(out, file)}`);
      expect(await readFile(join(out, file), 'utf8')).toBe(await readFile(file, 'utf8'));
    }
  }, 120_000);

  it('on a broken operation names the file, line, operation and field, writes nothing and exits 1', async () => {
    const { operations, out } = await copyOfOperations();
    const auth = join(operations, 'auth.graphql');
    const text = await readFile(auth, 'utf8');
    expect(text).toContain('      codeSentTo\n');
    await writeFile(auth, text.replace('      codeSentTo\n', '      codeSentToo\n'));
    const line = text.split('\n').findIndex((l) => l === '      codeSentTo') + 1;

    const { code, output } = await codegen(operations, out);
    expect(code, output).toBe(1);
    expect(output).toContain(`${auth}:${line}:7: operation Register, field codeSentToo: Cannot query field "codeSentToo" on type "RegisterSuccess".`);
    expect(output).toContain('nothing written');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  }, 120_000);
});
