import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A redis-server of its own on a free loopback port, for a test that
 * restarts Redis: restarting the machine's shared one would disturb every
 * other test run. It persists with AOF (fsync on every write), as a
 * production Redis that must survive a restart does, so `restart()` (SIGTERM,
 * then start again on the same port and directory) keeps its data.
 */
export interface PrivateRedis {
  url: string;
  /** Stops it (SIGTERM: it flushes the AOF), then calls `whileDown`, then starts it again and waits until it answers. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisServerForTests {
  /** Why `redis-server` cannot run here, or null when it can. */
  problem: string | null;
  /** Skip the tests that need it: it is missing and `CI` is unset. */
  skip: boolean;
  /** For `beforeAll`: throws (under CI) when it is missing. */
  require(): void;
}

/**
 * Whether the `redis-server` binary runs here (Debian's redis-server
 * package; .ci/run installs it). When it does not, the tests of `file` that
 * need a private Redis are skipped with the reason printed, unless `CI` is
 * set: then they fail.
 */
export function redisServerForTests(file: string): RedisServerForTests {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  const problem = probe.error ? probe.error.message : probe.status === 0 ? null : `redis-server --version exited with ${probe.status ?? probe.signal}`;
  const skip = problem !== null && !process.env.CI;
  if (skip) console.warn(`${file}: skipping the tests with a Redis of their own, redis-server does not run (${problem}); install it with \`apt-get install redis-server\`; under CI they fail instead`);
  return {
    problem,
    skip,
    require: () => {
      if (problem !== null) throw new Error(`redis-server does not run (${problem}); CI is set, so this fails instead of skipping`);
    },
  };
}

/** Null when `redis-server` cannot be started here. */
export async function startPrivateRedis(): Promise<PrivateRedis | null> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    const spawned = child;
    const failed = new Promise<boolean>((resolve) => {
      spawned.once('error', () => resolve(true));
      spawned.once('exit', () => resolve(true));
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await Promise.race([failed, new Promise<false>((resolve) => setTimeout(() => resolve(false), 50))])) return false;
      if (await answers(url)) return true;
    }
    return false;
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  if (!(await start())) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    url,
    restart: async (whileDown) => {
      await stop();
      await whileDown?.();
      if (!(await start())) throw new Error('the private redis-server did not come back');
    },
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A TCP port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
