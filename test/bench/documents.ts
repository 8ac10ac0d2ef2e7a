/**
 * `npm run bench:documents`: what many distinct documents near the body cap
 * cost a gateway process, and what a fragment fan-out costs validation.
 *
 * 1. Memory. Two gateway processes (`src/main.ts`, bundled emulators) get
 *    the same stream of distinct documents, each close to
 *    REQUEST_MAX_BODY_BYTES: valid ones padded with a comment (kept by the
 *    parse cache with their source), ones of nearly OPERATION_MAX_TOKENS
 *    tokens, and broken ones (kept by the parse-error cache). One runs with
 *    the default DOCUMENT_CACHE_MAX_BYTES, its peer with no cache at all.
 *    Their RSS is read from /proc between rounds, interleaved; the target
 *    is that the cached one stays within the cache budget plus slack above
 *    its peer, and that neither keeps growing after the cache is full; both
 *    run with a 192 MiB heap cap and must survive it.
 * 2. Time. The validation of a 22-level fragment fan-out (each fragment
 *    spreads the next twice) with graphql-js's rules alone, and with the
 *    gateway's limits on top, interleaved; the target is a small ratio
 *    (the limits visit each fragment once; a walk of every path would take
 *    2^22 times longer).
 *
 * Loopback only, bounded loops. Exits non-zero on a missed target.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse, specifiedRules, validate } from 'graphql';
import { loadConfig } from '../../src/config.js';
import { schema } from '../../src/schema/index.js';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';

const defaults = loadConfig({});
const failures: string[] = [];
const BODY_CAP = defaults.REQUEST_MAX_BODY_BYTES;
const CACHE_BUDGET_MIB = defaults.DOCUMENT_CACHE_MAX_BYTES / 1_048_576;
const ROUNDS = 4;
const DOCUMENTS_PER_ROUND = 600;
const CONCURRENCY = 8;
const HEAP_CAP_MIB = 192;
const TARGETS = {
  /** RSS of the cached process above its cacheless peer at the end, MiB: the budget plus this slack. */
  maxAboveNoCacheMiB: CACHE_BUDGET_MIB + 48,
  /** RSS growth of either process from the second round to the last, MiB: nothing grows without bound. */
  maxLateGrowthMiB: 48,
  /** Validation time with the limits over graphql-js's alone, for the fan-out document. */
  maxFanOutRatio: 3,
};

interface Gateway {
  name: string;
  url: string;
  child: ChildProcess;
}

async function startGateway(name: string, env: Record<string, string>): Promise<Gateway> {
  // A heap cap, as a container would have: the process must live within it, and RSS then
  // shows what is kept rather than how lazily V8 collects.
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MIB}`, '--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      EMULATOR_ACCOUNT_PORT: '0',
      EMULATOR_DATING_PORT: '0',
      EMULATOR_STATE_FILE: 'off',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 60_000);
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const ready = /GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out);
      if (ready) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve(ready[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  child.stdout!.on('data', () => undefined);
  return { name, url, child };
}

function rssMiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

let serial = 0;
/** A distinct document of about `bytes`, of one of three kinds. */
function documentNear(bytes: number): string {
  const n = serial++;
  const kind = n % 3;
  const pad = (text: string) => `${text}\n# ${n} ${'x'.repeat(Math.max(0, bytes - text.length - 40))}`;
  if (kind === 0) return pad(`query Padded${n} { __typename }`);
  // ~1,900 tokens: the AST is as large as the token limit lets it be.
  if (kind === 1) return pad(`query Tokens${n} { ${'__typename '.repeat(1900)}}`);
  return pad(`query Broken${n} { __typename `); // a parse error, cached too
}

async function send(gateway: Gateway, documents: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < documents.length) {
      const query = documents[next++]!;
      const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      if (res.status === 413) throw new Error('a bench document is past the body cap');
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function fanOut(levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on User { id ...F${i + 1} ...F${i + 1} }`).join('\n');
  return `{ viewer { ...F0 } }\n${fragments}\nfragment F${levels} on User { id }`;
}

function timeValidation(document: string, rules: typeof specifiedRules, times: number): number {
  const ast = parse(document);
  const started = process.hrtime.bigint();
  for (let i = 0; i < times; i++) validate(schema, ast, rules);
  return Number(process.hrtime.bigint() - started) / 1e6 / times;
}

// 1. Memory
const cached = await startGateway('cached', {});
const uncached = await startGateway('no-cache', { DOCUMENT_CACHE_MAX_BYTES: '0' });
const peers = [cached, uncached];
const warm = Array.from({ length: 50 }, () => documentNear(2000));
for (const g of peers) await send(g, warm);
const rss: Record<string, number[]> = { cached: [rssMiB(cached.child)], 'no-cache': [rssMiB(uncached.child)] };
const documentBytes = BODY_CAP - 2048;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const documents = Array.from({ length: DOCUMENTS_PER_ROUND }, () => documentNear(documentBytes));
    // Interleaved: each round goes to both before the next round is made.
    for (const g of round % 2 ? [...peers].reverse() : peers) {
      await send(g, documents);
      rss[g.name]!.push(rssMiB(g.child));
    }
  }
} catch (error) {
  // A process that dies of its heap cap closes the connections: that is the finding.
  const dead = peers.filter((g) => g.child.exitCode !== null || g.child.signalCode !== null).map((g) => g.name);
  failures.push(dead.length > 0 ? `${dead.join(', ')} died under the ${HEAP_CAP_MIB} MiB heap cap` : `sending failed: ${(error as Error).message}`);
} finally {
  for (const g of peers) g.child.kill('SIGTERM');
}

const sentMiB = (ROUNDS * DOCUMENTS_PER_ROUND * documentBytes) / 1_048_576;
console.log(`documents: ${ROUNDS} rounds of ${DOCUMENTS_PER_ROUND} distinct documents of ${(documentBytes / 1024).toFixed(0)} kB (${sentMiB.toFixed(0)} MiB in all), cache budget ${CACHE_BUDGET_MIB} MiB, heap cap ${HEAP_CAP_MIB} MiB`);
for (const [name, values] of Object.entries(rss)) console.log(`  RSS ${name.padEnd(9)} MiB: ${values.map((v) => v.toFixed(0)).join(' → ')}`);
const above = rss.cached!.at(-1)! - rss['no-cache']!.at(-1)!;
console.log(`  cached above no-cache at the end: ${above.toFixed(0)} MiB (target ≤ ${TARGETS.maxAboveNoCacheMiB})`);
if (above > TARGETS.maxAboveNoCacheMiB) failures.push(`cached process ${above.toFixed(0)} MiB above its peer`);
for (const [name, values] of Object.entries(rss)) {
  const late = values.at(-1)! - values[2]!;
  console.log(`  ${name} growth from round 2 to the end: ${late.toFixed(0)} MiB (target ≤ ${TARGETS.maxLateGrowthMiB})`);
  if (late > TARGETS.maxLateGrowthMiB) failures.push(`${name} grew ${late.toFixed(0)} MiB after round 2`);
}

// 2. Fragment fan-out
const limits = [
  ...specifiedRules,
  maxDepthRule({ n: defaults.OPERATION_MAX_DEPTH, flattenFragments: true, propagateOnRejection: false }),
  maxAliasesRule({ n: defaults.OPERATION_MAX_ALIASES, propagateOnRejection: false }),
  maxDirectivesRule({ n: defaults.OPERATION_MAX_DIRECTIVES, propagateOnRejection: false }),
  costLimitRule({ maxCost: defaults.OPERATION_MAX_COST, flattenFragments: true, propagateOnRejection: false }),
];
const document = fanOut(22);
let plain = 0;
let limited = 0;
for (let i = 0; i < 5; i++) {
  plain += timeValidation(document, specifiedRules, 20);
  limited += timeValidation(document, limits, 20);
}
const ratio = limited / plain;
console.log(`fragment fan-out, 22 levels (${document.length} bytes): graphql-js rules ${(plain / 5).toFixed(2)} ms, with the limits ${(limited / 5).toFixed(2)} ms, ratio ${ratio.toFixed(2)} (target ≤ ${TARGETS.maxFanOutRatio})`);
if (ratio > TARGETS.maxFanOutRatio) failures.push(`fan-out validation ratio ${ratio.toFixed(2)}`);

if (failures.length > 0) {
  console.error(`missed: ${failures.join('; ')}`);
  process.exit(1);
}
process.exit(0);
