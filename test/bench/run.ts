/**
 * `npm run bench`: the gateway against Apollo Server and Mercurius, each in a
 * child process of its own, in front of one fixed-answer upstream stub (also
 * in its own process). autocannon, here in the parent, drives interleaved
 * rounds of every workload on every target, so noise on this shared machine
 * hits all of them alike; the targets are ratios to the peers measured in
 * the same run, never absolute numbers. Then a sustained load on the
 * gateway checks that its heap after a GC stays flat.
 *
 * Prints the table and every ratio, writes bench-results.json, and exits
 * non-zero when a must misses. Never part of `npm test`.
 *
 * Environment (defaults are the full run):
 *   BENCH_ROUNDS=3  BENCH_ROUND_SECONDS=5  BENCH_CONNECTIONS=50  BENCH_MEMORY_SECONDS=60
 *   BENCH_TARGETS=stub,apollo,mercurius,gateway (and gateway-source: src/ under tsx, against the compiled build)  BENCH_WORKLOADS=products,dashboard,__typename
 *   BENCH_BASELINE=<git rev> (adds the gateway at that commit as a target, and the ratios to it)
 *   BENCH_GATEWAY_NODE_ARGS="--max-semi-space-size=16" (more node flags of the gateway's process only, after those of its npm start, e.g. against the baseline)
 *   BENCH_GATEWAY_SOURCE=1 (the gateway's src/ under tsx instead of its compiled build, dist/, which `npm start` runs)
 *   BENCH_RESULTS=bench-results.json  BENCH_PROFILE=1 (CPU profiles of the gateway and the baseline over the timed rounds, to .tmp/profiles, summarized per request)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { measure, type Measurement } from './load.js';
import { summarizeProfile } from './profile.js';
import { baselineTarget, buildGateway, startTarget, TARGETS, type RunningTarget } from './targets.js';
import { SESSION, WORKLOADS } from './workloads.js';

const env = process.env;
const num = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`);
  return value;
};
const list = (name: string, all: string[]) => (env[name] ? env[name]!.split(',').map((s) => s.trim()) : all);

const settings = {
  rounds: num('BENCH_ROUNDS', 3),
  roundSeconds: num('BENCH_ROUND_SECONDS', 5),
  connections: num('BENCH_CONNECTIONS', 50),
  memorySeconds: num('BENCH_MEMORY_SECONDS', 60),
  targets: list('BENCH_TARGETS', TARGETS.filter((t) => t.name !== 'gateway-source').map((t) => t.name)),
  baseline: env.BENCH_BASELINE,
  workloads: list('BENCH_WORKLOADS', WORKLOADS.map((w) => w.name)),
  results: env.BENCH_RESULTS ?? 'bench-results.json',
  profile: env.BENCH_PROFILE === '1',
};

/** The musts of issue 13; a miss exits non-zero. Goals are printed only. */
const MUST = { minRatioToApollo: 2, maxP99RatioToApollo: 1, maxHeapGrowthMiB: 16 };
const MUST_WORKLOADS = ['products', 'dashboard'];

const workloads = WORKLOADS.filter((w) => settings.workloads.includes(w.name));
if (settings.targets.includes('gateway') && env.BENCH_GATEWAY_SOURCE !== '1') buildGateway();
const targets = [...TARGETS.filter((t) => settings.targets.includes(t.name)), ...(settings.baseline ? [baselineTarget(settings.baseline)] : [])];

// The stub is every target's upstream, so it starts first and stays up.
const stub = await startTarget(TARGETS.find((t) => t.name === 'stub')!, '', {});
const running = new Map<string, RunningTarget>([['stub', stub]]);
/** Requests each target served in the timed rounds: the profiles' denominator. */
const served = new Map<string, number>();
const PROFILED = ['gateway', 'baseline'];
const PROFILE_DIR = '.tmp/profiles';
const stopAll = () => Promise.all([...running.values()].map((t) => t.stop()));
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  for (const target of targets) {
    if (target.name !== 'stub') running.set(target.name, await startTarget(target, stub.url, {
      nodeArgs: target.name === 'gateway' ? (env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean) : [],
    }));
  }
  const cells = targets.flatMap((t) => workloads.filter((w) => t.serves(w)).map((w) => ({ target: t, workload: w })));

  // Every answer right before anything is timed (a fast wrong answer is no answer).
  for (const { target, workload } of cells) {
    const body = await target.probe(target.endpoint(running.get(target.name)!.url), workload, SESSION);
    if (!workload.check(body)) throw new Error(`${target.name} answers ${workload.name} wrongly: ${JSON.stringify(body).slice(0, 300)}`);
  }
  console.log(`bench: ${targets.map((t) => t.name).join(', ')} × ${workloads.map((w) => w.name).join(', ')}; ${settings.rounds} rounds of ${settings.roundSeconds} s, ${settings.connections} connections`);

  // Warm-up: a short load per cell, so every target's JIT has seen its code.
  const warmSeconds = Math.min(2, settings.roundSeconds);
  for (const cell of cells) await measure(cell.target.endpoint(running.get(cell.target.name)!.url), cell.target.request(cell.workload, SESSION), settings.connections, warmSeconds);
  const profiled = settings.profile ? PROFILED.filter((n) => running.has(n)) : [];
  for (const name of profiled) await running.get(name)!.profileStart();

  const rounds: Record<string, Record<string, Measurement[]>> = {};
  for (let round = 0; round < settings.rounds; round++) {
    for (const workload of workloads) {
      // Rotate the order each round: no target always runs first or last.
      const inRound = cells.filter((c) => c.workload === workload);
      const ordered = inRound.map((_, i) => inRound[(i + round) % inRound.length]!);
      for (const { target } of ordered) {
        const proc = running.get(target.name)!;
        const cpuBefore = await proc.cpu();
        const m = await measure(target.endpoint(proc.url), target.request(workload, SESSION), settings.connections, settings.roundSeconds);
        served.set(target.name, (served.get(target.name) ?? 0) + m.requests);
        m.cpuMicrosPerRequest = Math.round((await proc.cpu()) - cpuBefore) / Math.max(1, m.requests);
        m.cpuMicrosPerRequest = Math.round(m.cpuMicrosPerRequest);
        ((rounds[target.name] ??= {})[workload.name] ??= []).push(m);
        console.log(`  round ${round + 1} ${workload.name.padEnd(10)} ${target.name.padEnd(9)} ${fmt(m.requestsPerSecond).padStart(7)} req/s  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  cpu ${m.cpuMicrosPerRequest} µs/req${m.failures ? `  ${m.failures} FAILED` : ''}`);
      }
    }
  }

  for (const name of profiled) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    await running.get(name)!.profileStop(`${PROFILE_DIR}/${name}.cpuprofile`);
    console.log(`\nprofile of ${name} over the timed rounds (${PROFILE_DIR}/${name}.cpuprofile): ${summarizeProfile(`${PROFILE_DIR}/${name}.cpuprofile`, served.get(name) ?? 0)}`);
  }

  const summary = summarize(rounds);
  const ratios = ratiosOf(summary);
  const memory = running.has('gateway') && settings.memorySeconds > 0 ? await memoryCheck(running.get('gateway')!) : undefined;

  printTable(summary, ratios);
  if (memory) console.log(`\nmemory: gateway heap after GC ${memory.heapBeforeMiB} → ${memory.heapAfterMiB} MiB over ${memory.seconds} s of dashboard load (${memory.requests} requests): growth ${memory.growthMiB} MiB, rss ${memory.rssMiB} MiB`);

  const misses = mustMisses(summary, ratios, memory);
  const goals = goalMisses(ratios);
  writeFileSync(
    settings.results,
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, settings, must: MUST, summary, ratios, memory, rounds, misses, goalsMissed: goals }, null, 2)}\n`,
  );
  console.log(`\nresults: ${settings.results}`);
  if (goals.length) console.log(`goals not reached: ${goals.join('; ')}`);
  if (misses.length) {
    console.error(`MUST missed: ${misses.join('; ')}`);
    process.exitCode = 1;
  } else if (Object.keys(ratios).length) console.log('every must met');
} finally {
  await stopAll();
}


interface Cell {
  requestsPerSecond: number;
  minRequestsPerSecond: number;
  maxRequestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerRequest: number;
  failures: number;
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per target and workload: the median round, and the range of req/s. */
function summarize(all: Record<string, Record<string, Measurement[]>>) {
  const out: Record<string, Record<string, Cell>> = {};
  for (const [target, byWorkload] of Object.entries(all)) {
    for (const [workload, ms] of Object.entries(byWorkload)) {
      const rps = ms.map((m) => m.requestsPerSecond);
      (out[target] ??= {})[workload] = {
        requestsPerSecond: Math.round(median(rps)),
        minRequestsPerSecond: Math.min(...rps),
        maxRequestsPerSecond: Math.max(...rps),
        p50Ms: median(ms.map((m) => m.p50Ms)),
        p99Ms: median(ms.map((m) => m.p99Ms)),
        cpuMicrosPerRequest: Math.round(median(ms.map((m) => m.cpuMicrosPerRequest ?? 0))),
        failures: ms.reduce((n, m) => n + m.failures, 0),
      };
    }
  }
  return out;
}

/** The gateway's req/s and p99 over each peer's, per workload. */
function ratiosOf(summary: ReturnType<typeof summarize>) {
  const out: Record<string, Record<string, { requests: number; p99: number; cpuPerRequest: number }>> = {};
  const gateway = summary.gateway;
  if (!gateway) return out;
  for (const peer of ['apollo', 'mercurius', 'baseline', 'gateway-source']) {
    for (const [workload, mine] of Object.entries(gateway)) {
      const theirs = summary[peer]?.[workload];
      if (!theirs) continue;
      (out[peer] ??= {})[workload] = {
        requests: +(mine.requestsPerSecond / theirs.requestsPerSecond).toFixed(2),
        p99: +(mine.p99Ms / Math.max(theirs.p99Ms, 0.01)).toFixed(2),
        cpuPerRequest: +(mine.cpuMicrosPerRequest / Math.max(theirs.cpuMicrosPerRequest, 1)).toFixed(2),
      };
    }
  }
  return out;
}

function mustMisses(summary: ReturnType<typeof summarize>, ratios: ReturnType<typeof ratiosOf>, memory: Awaited<ReturnType<typeof memoryCheck>> | undefined) {
  const misses: string[] = [];
  for (const [target, byWorkload] of Object.entries(summary)) {
    for (const [workload, cell] of Object.entries(byWorkload)) {
      if (cell.failures) misses.push(`${target} ${workload}: ${cell.failures} failed requests`);
    }
  }
  for (const workload of MUST_WORKLOADS) {
    const vsApollo = ratios.apollo?.[workload];
    if (!vsApollo) continue;
    if (vsApollo.requests < MUST.minRatioToApollo) misses.push(`${workload}: ${vsApollo.requests}x Apollo's req/s < ${MUST.minRatioToApollo}x`);
    if (vsApollo.p99 > MUST.maxP99RatioToApollo) misses.push(`${workload}: p99 ${summary.gateway![workload]!.p99Ms} ms > Apollo's ${summary.apollo![workload]!.p99Ms} ms`);
  }
  if (memory?.gc && memory.growthMiB > MUST.maxHeapGrowthMiB) misses.push(`heap grew ${memory.growthMiB} MiB > ${MUST.maxHeapGrowthMiB} MiB`);
  return misses;
}

function goalMisses(ratios: ReturnType<typeof ratiosOf>) {
  return MUST_WORKLOADS.flatMap((w) => {
    const r = ratios.mercurius?.[w];
    return r && r.requests < 1 ? [`${w}: ${r.requests}x Mercurius's req/s < 1x`] : [];
  });
}

/** Heap after a GC, before and after a sustained dashboard load on the gateway. */
async function memoryCheck(gateway: RunningTarget) {
  const dashboard = WORKLOADS.find((w) => w.name === 'dashboard')!;
  const target = TARGETS.find((t) => t.name === 'gateway')!;
  const before = await gateway.heap();
  const m = await measure(gateway.url, target.request(dashboard, SESSION), settings.connections, settings.memorySeconds);
  const after = await gateway.heap();
  const mib = (bytes: number) => +(bytes / 1_048_576).toFixed(1);
  return {
    seconds: settings.memorySeconds,
    requests: m.requests,
    gc: after.gc,
    heapBeforeMiB: mib(before.heapUsed),
    heapAfterMiB: mib(after.heapUsed),
    growthMiB: mib(after.heapUsed - before.heapUsed),
    rssMiB: mib(after.rss),
  };
}

function fmt(n: number) {
  return Math.round(n).toLocaleString('en-US');
}

function printTable(summary: ReturnType<typeof summarize>, ratios: ReturnType<typeof ratiosOf>) {
  const cols = workloads.map((w) => w.name);
  const rows = targets.filter((t) => summary[t.name]).map((t) => [
    t.label,
    ...cols.map((w) => {
      const c = summary[t.name]![w];
      if (!c) return '';
      const range = settings.rounds > 1 ? ` (${fmt(c.minRequestsPerSecond)}-${fmt(c.maxRequestsPerSecond)})` : '';
      return `${fmt(c.requestsPerSecond)} req/s${range}, p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms, ${c.cpuMicrosPerRequest} µs CPU/req`;
    }),
  ]);
  for (const peer of Object.keys(ratios)) {
    rows.push([`gateway / ${peer}`, ...cols.map((w) => (ratios[peer]![w] ? `${ratios[peer]![w]!.requests}x req/s, ${ratios[peer]![w]!.p99}x p99, ${ratios[peer]![w]!.cpuPerRequest}x CPU/req` : ''))]);
  }
  const header = ['target (median of rounds)', ...cols];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}`);
}
