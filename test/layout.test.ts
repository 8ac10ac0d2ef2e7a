import { readdir } from 'node:fs/promises';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The rooms of src/ (ARCHITECTURE.md), lowest first. A module may import
 * its own room and any lower one, never a higher one or another room of
 * the same rank. Paths are relative to src/; the first prefix that matches
 * names the room.
 */
const ROOMS: readonly { room: string; rank: number; prefix: string }[] = [
  { room: 'domain', rank: 0, prefix: 'domain/' },
  { room: 'client', rank: 0, prefix: 'client/' },
  { room: 'infra', rank: 1, prefix: 'infra/' },
  { room: 'config', rank: 2, prefix: 'config.ts' },
  { room: 'config', rank: 2, prefix: 'config/' },
  { room: 'upstream', rank: 3, prefix: 'upstream/' },
  { room: 'emulator', rank: 3, prefix: 'emulator/' },
  { room: 'events', rank: 4, prefix: 'events/' },
  { room: 'services', rank: 5, prefix: 'services.ts' },
  { room: 'flows', rank: 6, prefix: 'flows/' },
  { room: 'schema', rank: 7, prefix: 'schema/' },
  { room: 'plugins', rank: 8, prefix: 'plugins/' },
  { room: 'transport', rank: 9, prefix: 'transport/' },
  { room: 'gateway', rank: 10, prefix: 'gateway.ts' },
  { room: 'main', rank: 11, prefix: 'main.ts' },
  { room: 'contract', rank: 11, prefix: 'contract/' },
];

const roomOf = (file: string) => ROOMS.find((r) => file === r.prefix || (r.prefix.endsWith('/') && file.startsWith(r.prefix)));

describe('the layout of src/', () => {
  let graph: Record<string, string[]>;
  let circular: string[][];

  beforeAll(async () => {
    // Type-only imports count too: a type that runs upward is an arrow that runs upward.
    const result = await madge('src', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json', excludeRegExp: [/\.json$/] });
    graph = result.obj();
    circular = result.circular();
    expect(result.warnings().skipped, 'imports madge could not resolve').toEqual([]);
  });

  it('madge reads the whole tree', () => {
    expect(Object.keys(graph)).toContain('main.ts');
    expect(Object.keys(graph).length).toBeGreaterThan(50);
    expect(graph['gateway.ts']).toContain('schema/index.ts');
  });

  it('has no import cycle', () => {
    expect(circular).toEqual([]);
  });

  it('puts every module in a room', () => {
    expect(Object.keys(graph).filter((file) => !roomOf(file))).toEqual([]);
  });

  it('has no import from a lower room to a higher one', () => {
    const upward: string[] = [];
    for (const [file, imports] of Object.entries(graph)) {
      const from = roomOf(file);
      for (const target of imports) {
        const to = roomOf(target);
        if (!from || !to || from.room === to.room) continue;
        if (to.rank >= from.rank) upward.push(`${file} (${from.room}) -> ${target} (${to.room})`);
      }
    }
    expect(upward).toEqual([]);
  });

  // contract/ probes the real backends' wire itself, with the clients' own parsers.
  it('maps the wire only in upstream/: nothing else but the contract probe imports upstream/*/wire.ts', () => {
    const wireImports = Object.entries(graph).flatMap(([file, imports]) =>
      file.startsWith('upstream/') || file.startsWith('contract/') ? [] : imports.filter((t) => /^upstream\/[^/]+\/wire\.ts$/.test(t)).map((t) => `${file} -> ${t}`),
    );
    expect(wireImports).toEqual([]);
  });

  it('keeps at most six files at the root of src/, each a room of the composition', async () => {
    const files = (await readdir('src', { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    expect(files).toContain('main.ts');
    expect(files.length).toBeLessThanOrEqual(6);
    expect(files.filter((file) => !ROOMS.some((r) => r.prefix === file))).toEqual([]);
  });
});
