import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defer, waitUntil } from './harness.js';

/** tsx by absolute path, so a process can run in another working directory. */
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;

/** A TypeScript entry of the repo running as its own Node process, as a user starts it (`npm start`, `npm run emulator`). */
export interface NodeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Its exit code (null when a signal ended it), once it has exited and all of its output is read. */
  exited: Promise<number | null>;
  alive(): boolean;
  /** Waits until `pattern` matches its `stream` (stdout by default); fails at once, with the output, if it exits first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', ms?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGTERM), SIGKILL if it has not exited after `graceMs`; resolves with its exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/**
 * Runs `entry` (a path in the repo, e.g. `src/main.ts`) under tsx with only
 * PATH and `env` in its environment, in `cwd`. Killed with the leftovers.
 */
export function startNodeProcess(entry: string, env: Record<string, string>, cwd = process.cwd()): NodeProcess {
  const child = spawn(process.execPath, ['--import', TSX, resolve(entry)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // 'close', not 'exit': by then all of its output has been read.
  let closed = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    alive,
    waitFor: async (pattern, stream = 'stdout', ms) => {
      const text = () => (stream === 'stdout' ? stdout : stderr);
      await waitUntil(
        () => {
          if (pattern.test(text())) return true;
          if (closed) throw new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before its ${stream} matched ${pattern}:\n${stdout}${stderr}`);
          return false;
        },
        `${entry}'s ${stream} to match ${pattern}`,
        ms,
      );
      return pattern.exec(text())!;
    },
    stop: async (signal = 'SIGTERM', graceMs = 10_000) => {
      if (!alive()) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
