import { describe, expect, it } from 'vitest';
import { RepeatedWarnings } from '../src/infra/repeated-warnings.js';
import { createLogger } from '../src/infra/logger.js';

/** The sampler on its own, with a logger that keeps its lines (the gateway's use: test/upstream-resilience.test.ts). */
function sampler(options: { windowMs?: number; maxKinds?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { warnings: new RepeatedWarnings(logger, { windowMs: 60_000, ...options }), lines };
}

describe('RepeatedWarnings', () => {
  it('writes the first of each kind with its detail, and the count of the rest when the window ends', () => {
    const { warnings, lines } = sampler();
    for (let i = 0; i < 5; i++) warnings.warn('upstream call timed out', { path: 'user/get' }, { ms: 100 + i });
    warnings.warn('upstream call timed out', { path: 'user/settings/get' }, { ms: 7 });
    expect(lines.map((l) => [l.msg, l.path, l.ms])).toEqual([
      ['upstream call timed out', 'user/get', 100],
      ['upstream call timed out', 'user/settings/get', 7],
    ]);
    warnings.flush();
    expect(lines.slice(2)).toEqual([expect.objectContaining({ level: 'warn', msg: 'upstream call timed out, 4 more times in the last 60 s', path: 'user/get', repeated: 4, windowMs: 60_000 })]);
    expect(lines[2]).not.toHaveProperty('ms');

    warnings.warn('upstream call timed out', { path: 'user/get' });
    expect(lines, 'a new window writes the first again').toHaveLength(4);
  });

  it('flushes on its own when the window ends', async () => {
    const { warnings, lines } = sampler({ windowMs: 100 });
    warnings.warn('a', { k: 1 });
    warnings.warn('a', { k: 1 });
    const deadline = Date.now() + 10_000;
    while (lines.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines[1]).toMatchObject({ msg: 'a, 1 more times in the last 100 ms', repeated: 1 });
  });

  it('counts kinds beyond maxKinds under one line instead of growing', () => {
    const { warnings, lines } = sampler({ maxKinds: 2 });
    for (let i = 0; i < 10; i++) warnings.warn('failed', { path: `p${i}` });
    expect(lines).toHaveLength(2);
    warnings.flush();
    expect(lines[2]).toMatchObject({ msg: 'other warnings, 8 more times in the last 60 s', repeated: 8 });
  });
});
