/**
 * The child-process side of a bench target: it starts its server on a free
 * loopback port, tells the parent its URL over IPC, answers `heap` with the
 * heap used after a GC (with --expose-gc) and `cpu` with its CPU time so far,
 * and stops on `stop` or SIGTERM.
 * Each target runs in a process of its own, apart from the load generator.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface Started {
  url: string;
  close(): Promise<void>;
}

export async function serveTarget(start: (upstreamUrl: string) => Promise<Started>): Promise<void> {
  if (!process.send) throw new Error('a bench target runs as a child process of test/bench/run.ts (IPC)');
  const upstream = process.env.BENCH_UPSTREAM_URL ?? '';
  const started = await start(upstream);
  const stop = async () => {
    await started.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void stop();
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ type: 'cpu', micros: user + system });
    }
    if (message.type === 'profile-start') void profileStart().then(() => process.send!({ type: 'profile-start' }));
    if (message.type === 'profile-stop') void profileStop((message as { file?: string }).file!).then(() => process.send!({ type: 'profile-stop' }));
    if (message.type === 'heap') {
      globalThis.gc?.();
      globalThis.gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      process.send!({ type: 'heap', heapUsed, rss, gc: typeof globalThis.gc === 'function' });
    }
  });
  process.send({ type: 'ready', url: started.url });
}

/** BENCH_PROFILE: the CPU profile of the timed rounds only (not start-up, not warm-up), through the inspector. */
let session: Session | undefined;
async function profileStart() {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
async function profileStop(file: string) {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  session = undefined;
}
