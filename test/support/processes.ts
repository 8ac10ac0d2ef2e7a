import { type ChildProcess, spawn } from 'node:child_process';
import { gql, type GqlOptions, type Stack } from './stack.js';

/**
 * Gateways as separate processes (`node --import tsx src/main.ts`, as
 * `npm start` runs it), in front of a test stack's emulators: for what one
 * process cannot show, such as two instances sharing only Redis, or a
 * process surviving an upstream answer.
 */
export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Still running. */
  alive(): boolean;
  /** Everything it wrote so far (its JSON log lines), stdout then stderr. */
  output(): string;
  gql: <T = any>(query: string, variables?: Record<string, unknown>, options?: GqlOptions) => ReturnType<typeof gql<T>>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a gateway process against `stack`'s Account emulator (and its Dating
 * emulator's sites when it has them; else the process starts its own on a free
 * port), on a free port, with `env` on top. Resolves once it serves.
 */
export async function spawnGateway(stack: Stack, env: Record<string, string> = {}, readyMs = 30_000): Promise<GatewayProcess> {
  const upstreams: Record<string, string> = { ACCOUNT_API_URL: stack.emulator.url };
  if (stack.env.DATING_SITES) upstreams.DATING_SITES = stack.env.DATING_SITES;
  else upstreams.EMULATOR_DATING_PORT = '0';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', EMULATOR_STATE_FILE: 'off', ...upstreams, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => `${stdout}${stderr}`;

  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`did not serve within ${readyMs} ms`), readyMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`gateway process ${why}:\n${output()}`));
    };
    const check = () => {
      const ready = /GraphiQL ready at (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(stdout);
      if (!ready || settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve(ready[1]!);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => fail(`exited with ${code} before serving`));
  });

  return {
    url,
    child,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    output,
    gql: (query, variables, options) => gql(url, query, variables, options),
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
