/**
 * BENCH_PROFILE=1: a summary of a target's CPU profile (node --cpu-prof), as
 * self time per request of its hottest functions and packages, so a change
 * is judged against the baseline's profile from the same run.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame comes from: a package, node itself, or a file of the project. */
function origin(url: string, fn: string): string {
  if (url === '') return fn || '(native)';
  if (url.startsWith('node:')) return 'node';
  const inModules = url.split('node_modules/').pop()!;
  if (inModules !== url) return inModules.split('/').slice(0, inModules.startsWith('@') ? 2 : 1).join('/');
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1).split('/').slice(0, 2).join('/') : url;
}

/** A .cpuprofile as µs of self time per request: its `top` functions and packages. */
export function summarizeProfile(file: string, requests: number, top = 30): string {
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < profile.samples.length; i++) {
      const { callFrame: cf } = nodes.get(profile.samples[i]!)!;
      const micros = profile.timeDeltas[i] ?? 0;
      if (cf.functionName === '(idle)') continue;
      total += micros;
      const where = cf.url.split('/').slice(-2).join('/');
      const name = `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
      const from = origin(cf.url, cf.functionName);
      byOrigin.set(from, (byOrigin.get(from) ?? 0) + micros);
    }
  }
  const per = (micros: number) => (micros / Math.max(1, requests)).toFixed(2).padStart(7);
  const list = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `  ${per(v)} µs  ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  return `${per(total)} µs of CPU per request (not idle), over ${requests} requests\n by origin:\n${list(byOrigin)}\n by function (self time):\n${list(byFunction)}`;
}
