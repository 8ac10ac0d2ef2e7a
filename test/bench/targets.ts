/**
 * The bench's targets, each a file under targets/ run in a child process of
 * its own (node --import tsx, with --expose-gc), and how each is asked a
 * workload. The stub is the upstream of all others and, as a target, the
 * limit of the setup: its own `user/products/get`. The gateway runs its
 * compiled build, as `npm start` does (buildGateway first).
 */
import { execFileSync, execSync, fork, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Request } from './load.js';
import type { Workload } from './workloads.js';

export interface Target {
  name: string;
  label: string;
  file: string;
  /** Where the workloads go, from the URL the target's process reports. */
  endpoint(url: string): string;
  serves(workload: Workload): boolean;
  request(workload: Workload, session: string): Request;
  /** One request with its parsed answer, to check before timing. */
  probe(url: string, workload: Workload, session: string): Promise<any>;
  /** More environment of its process. */
  env?: Record<string, string>;
  /** Node flags of its process (the gateway: those of its npm start). */
  nodeFlags?: string[];
}

/** The node flags `npm start` runs the gateway of `dir` with (package.json's start script): the bench runs it the same way. */
export function startFlags(dir = '.'): string[] {
  const start = (JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  return /^(?:exec )?node (.*)dist\/main\.js$/.exec(start)?.[1]?.split(' ').filter((flag) => flag.startsWith('--')) ?? [];
}

/** The gateway's compiled build in `dir` (dist/), made when missing or older than its sources. */
export function buildGateway(dir = '.'): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** What a browser sends along. */
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const graphqlRequest = (workload: Workload, session: string): Request => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', 'user-agent': USER_AGENT, authorization: `Bearer ${session}` },
  body: JSON.stringify({ query: workload.query }),
});
const probe = async (url: string, request: Request) => (await fetch(url, request)).json();

const graphql = (name: string, label: string): Target => ({
  name,
  label,
  file: `targets/${name}.ts`,
  endpoint: (url) => url,
  serves: () => true,
  request: graphqlRequest,
  probe: (url, workload, session) => probe(url, graphqlRequest(workload, session)),
});

const stubRequest = (session: string): Request => ({ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: '{}' });

export const TARGETS: Target[] = [
  {
    name: 'stub',
    label: 'upstream stub alone',
    file: 'targets/stub.ts',
    endpoint: (url) => `${url}/user/products/get`,
    serves: (w) => w.name === 'products',
    request: (_w, session) => stubRequest(session),
    // The stub answers the envelope; shown as the products workload's data.
    probe: async (url, _w, session) => {
      const json = (await probe(url, stubRequest(session))) as { data: { state: string }[] };
      return { data: { products: json.data.map((p) => ({ ...p, state: p.state.toUpperCase() })) } };
    },
  },
  graphql('apollo', 'Apollo Server 5 + datasource-rest'),
  graphql('mercurius', 'Mercurius 16 + Fastify 5, jit: 1'),
  { ...graphql('gateway', 'this gateway'), nodeFlags: startFlags() },
  // Not in the default run: the same gateway from src/ under tsx, to show what the compiled build gains.
  { ...graphql('gateway-source', 'this gateway, src/ under tsx'), file: 'targets/gateway.ts', env: { BENCH_GATEWAY_SOURCE: '1' }, nodeFlags: startFlags() },
];

/**
 * BENCH_BASELINE=<git rev>: the gateway as it was at that commit, as one more
 * target, so a change is measured against its own past in the same run.
 */
export function baselineTarget(rev: string): Target {
  const dir = `.tmp/baseline-${rev.replace(/[^\w.-]/g, '_')}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // That commit's tree (src/ and all it reads at run time: schema/operations/, the
  // manifest, package.json's "type"), driven by today's bench code.
  execSync(`git archive ${JSON.stringify(rev)} | tar -x -C ${JSON.stringify(dir)}`);
  rmSync(`${dir}/test`, { recursive: true, force: true });
  cpSync('test/bench', `${dir}/test/bench`, { recursive: true });
  // Today's packages when that commit locked the same ones, else its own (npm ci: slower, but it runs).
  if (readFileSync(`${dir}/package-lock.json`, 'utf8') === readFileSync('package-lock.json', 'utf8')) symlinkSync(resolve('node_modules'), `${dir}/node_modules`);
  else execSync('npm ci --no-audit --no-fund', { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  // Compiled as the gateway is; a tree from before the build existed runs from its sources.
  const compiled = existsSync(`${dir}/scripts/build.mjs`);
  if (compiled) buildGateway(dir);
  return {
    ...graphql('baseline', `the gateway at ${rev}${compiled ? '' : ' (src/ under tsx)'}`),
    file: resolve(dir, 'test/bench/targets/gateway.ts'),
    env: compiled ? {} : { BENCH_GATEWAY_SOURCE: '1' },
    nodeFlags: startFlags(dir),
  };
}

export interface RunningTarget {
  url: string;
  /** Heap used and rss after a GC in the target's process. */
  heap(): Promise<{ heapUsed: number; rss: number; gc: boolean }>;
  /** CPU time (user + system) the target's process has used so far, µs. */
  cpu(): Promise<number>;
  /** Starts a CPU profile in the target's process (inspector). */
  profileStart(): Promise<void>;
  /** Stops it and writes it to `file` (.cpuprofile). */
  profileStop(file: string): Promise<void>;
  stop(): Promise<void>;
}

export function startTarget(target: Target, upstreamUrl: string, { nodeArgs = [] as string[] } = {}): Promise<RunningTarget> {
  const execArgv = ['--import', 'tsx', '--expose-gc', ...(target.nodeFlags ?? []), ...nodeArgs];
  const child: ChildProcess = fork(target.file.startsWith('/') ? target.file : new URL(target.file, import.meta.url), [], {
    execArgv,
    env: { ...process.env, ...target.env, BENCH_UPSTREAM_URL: upstreamUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const early = (code: number | null) => reject(new Error(`bench target ${target.name} exited with ${code} before it was ready`));
    child.once('exit', early);
    child.once('message', (message: { type: string; url: string }) => {
      child.off('exit', early);
      resolve({
        url: message.url,
        heap: () => ask(child, 'heap'),
        cpu: () => ask<{ micros: number }>(child, 'cpu').then((m) => m.micros),
        profileStart: () => ask(child, 'profile-start').then(() => undefined),
        profileStop: (file) => ask(child, 'profile-stop', { file }).then(() => undefined),
        stop: async () => {
          if (child.exitCode === null && child.connected) child.send({ type: 'stop' });
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        },
      });
    });
  });
}

function ask<T = any>(child: ChildProcess, type: string, extra: Record<string, unknown> = {}): Promise<T> {
  return new Promise((done) => {
    const answer = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', answer);
      done(m as T);
    };
    child.on('message', answer);
    child.send({ type, ...extra });
  });
}
