import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import { createLogger, type Logger } from '../../src/infra/logger.js';

/**
 * What every test file gets from importing the support (graphql-ws's
 * tests/utils/tservers.ts style):
 *
 * - One disposal list. Whatever a helper starts (emulators, gateways,
 *   clients, proxies) it registers with `defer`; what a test registered is
 *   disposed after that test, what a `beforeAll` registered after the file's
 *   last test. Last registered, first disposed. A test never writes its own
 *   `afterAll` to stop what a helper started.
 * - The leak check. Every gateway log line of the file is kept, and every
 *   secret a test handles (passwords and codes it sends, session tokens it
 *   receives) is remembered; once the file's last test has run and all is
 *   disposed, no line may hold any of them. The emulators' own logs are their
 *   simulated SMS and e-mail outbox and are not part of the gateway's logs.
 * - Waits that poll for the awaited state with a generous deadline.
 */

const leftovers: Array<() => unknown> = [];
/** How many leftovers there were when the running test began: the test's own are above. */
let testMark = 0;

/** Disposes `dispose` with the leftovers of the running test, or of the file when called from a `beforeAll`. */
export function defer(dispose: () => unknown): void {
  leftovers.push(dispose);
}

/** Disposes the running test's leftovers now, last registered first. */
export async function disposeLeftovers(): Promise<void> {
  await disposeDownTo(testMark);
}

async function disposeDownTo(mark: number): Promise<void> {
  const errors: unknown[] = [];
  while (leftovers.length > mark) {
    try {
      await leftovers.pop()!();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'disposing leftovers failed');
}

// Registered when a test file imports this module (at collection), so they
// run around each of the file's tests and after its last one, whatever the file does.
beforeEach(() => {
  testMark = leftovers.length;
});
afterEach(async () => {
  await disposeDownTo(testMark);
});
afterAll(async () => {
  testMark = 0;
  await disposeDownTo(0);
  for (const secret of secrets) {
    const leaking = logLines.find((line) => holds(line, secret));
    expect(leaking, `a gateway log line holds a secret`).toBeUndefined();
  }
});

/**
 * Whether `line` holds `secret`. A short secret (a 6-digit code) counts only
 * as a whole run of letters and digits: every line carries a random UUID
 * (its request id), and one in a few thousand of those has some 6-digit code
 * inside it by chance (`…-1558e0827919` holds 827919). A leaked code still
 * stands between quotes, spaces, `=` or `&`. Longer secrets count anywhere.
 */
function holds(line: string, secret: string): boolean {
  if (secret.length >= 12) return line.includes(secret);
  for (let at = line.indexOf(secret); at !== -1; at = line.indexOf(secret, at + 1)) {
    if (!ALNUM.test(line[at - 1] ?? '') && !ALNUM.test(line[at + secret.length] ?? '')) return true;
  }
  return false;
}
const ALNUM = /^[0-9A-Za-z]$/;

const logLines: string[] = [];
const secrets = new Set<string>();

/** Remembers a secret that must never reach a gateway log line. */
export function rememberSecret(value: string | null | undefined) {
  if (value && value.length >= 6) secrets.add(value);
}

const SECRET_FIELDS = /^(password|newPassword|code|emailCode|phoneCode|token|recoveryToken|deletionToken|ticket|apiKey)$/;

/** Remembers every secret-looking string (passwords, codes, tokens) inside `value`. */
export function rememberSecretsIn(value: unknown) {
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && SECRET_FIELDS.test(key)) rememberSecret(v);
    else rememberSecretsIn(v);
  }
}

/** Every gateway log line of this test file so far (JSON texts). */
export function gatewayLogLines(): readonly string[] {
  return logLines;
}

/** Keeps log lines written elsewhere (a gateway process's stdout) for the leak check. */
export function keepLogLines(text: string): void {
  for (const line of text.split('\n')) if (line !== '') logLines.push(line);
}

/** A logger whose lines are kept for the leak check (debug level: everything). */
export function captureLogger(bindings: Record<string, unknown> = {}): Logger {
  return createLogger({ level: 'debug', write: (line) => logLines.push(line), bindings });
}

export const silentLogger = createLogger({ level: 'silent' });

/**
 * How long a wait polls by default: generous, since the machine is shared and
 * busy (a wait ends as soon as its state holds, so this only bounds a failure).
 */
export const WAIT_MS = 15_000;

/** Polls `condition` until it holds, or fails after `ms` naming `what`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with `promise`, or fails after `ms` naming `what` (for a promise that would otherwise hang until the test's timeout). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
