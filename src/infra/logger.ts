import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { memoized } from './bounded-map.js';

/**
 * The gateway's structured logger, on pino: one JSON object per line, or
 * pino-pretty's coloured lines when its stream (stdout, or stderr for the
 * embedded emulators) is a terminal. A request's lines
 * carry its `requestId` as a field: the request's context has a child
 * logger with it (src/schema/context.ts), upstream calls take it from the
 * operation's Deadline (src/infra/request-scope.ts says why not
 * AsyncLocalStorage).
 *
 * Redaction happens in pino's log formatter, before anything is written:
 * values under keys that can hold a secret (passwords, codes, tokens,
 * tickets, API keys) are replaced at any depth, in the fields and a child's
 * bindings, and strings (the message too) lose bearer tokens and secret
 * query parameters.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

const SECRET_KEY = /password|passwd|secret|token|ticket|api_?key|authorization|cookie|session$|sessions|^(email_?|phone_?)?code$/i;
const SECRET_IN_TEXT = [
  [/Bearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/([?&](?:ticket|token|code|key|api_?key|password)=)[^&\s"']+/gi, '$1[redacted]'],
] as const;
/** Matches every string SECRET_IN_TEXT would change (and a few more): the cheap test before a copy. */
const MAYBE_SECRET_IN_TEXT = /Bearer\s|[?&](?:ticket|token|code|key|api_?key|password)=/i;
const MAX_DEPTH = 6;

function scrub(text: string): string {
  if (!MAYBE_SECRET_IN_TEXT.test(text)) return text;
  return SECRET_IN_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** Verdicts of SECRET_KEY by key: log lines use few distinct keys. */
const isSecretKey = memoized((key) => SECRET_KEY.test(key), 10_000);

/** Whether `redact` would leave `value` as it is: plain data with no secret key or text. */
function isClean(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !MAYBE_SECRET_IN_TEXT.test(value);
  if (value === null || typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => isClean(v, depth + 1));
  // Anything but a plain object (an Error, a URL, a class with toJSON) takes the copying path.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (isSecretKey(key) || !isClean((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** `value` without secrets: itself when it holds none (most lines), else a redacted copy. */
export function redact(value: unknown, depth = 0): unknown {
  return isClean(value, depth) ? value : redactCopy(value, depth);
}

function redactCopy(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return { name: value.name, message: scrub(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactCopy(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? '[redacted]' : redactCopy(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (without their newline). Default: `stream`. Tests pass a collector. */
  write?: (line: string) => void;
  /** The stream lines go to when `write` is not given. @default 'stdout' */
  stream?: 'stdout' | 'stderr';
  /** pino-pretty instead of JSON. Default: when `stream` is a terminal (and `write` is not given). */
  pretty?: boolean;
  bindings?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: redactFields,
      },
    },
    destination(options),
  );
  return new PinoLogger(instance, options.bindings ?? {});
}

const redactFields = (fields: LogFields) => redact(fields) as LogFields;

/** pino's isoTime, made once per millisecond: under load many lines share one (an access line per request). */
let timeMs = 0;
let timeField = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== timeMs) {
    timeMs = now;
    timeField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return timeField;
}

function destination(options: LoggerOptions): DestinationStream {
  if (options.write) {
    const write = options.write;
    return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  }
  const stream = options.stream ?? 'stdout';
  const fd = stream === 'stdout' ? 1 : 2;
  if (options.pretty ?? process[stream].isTTY === true) {
    // Loaded only for a terminal: production (stdout a pipe) never pays for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
    // One line per entry: a terminal that a person reads.
    return pretty({ colorize: true, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', destination: fd });
  }
  // stdout: asynchronous writes (pino flushes what is buffered when the process exits).
  // stderr: in order with the process's own messages there (a failed start's last line).
  return pino.destination({ fd, sync: stream === 'stderr' });
}

/**
 * The gateway's `(message, fields)` calls onto pino's `(fields, message)`;
 * the message is scrubbed too. A child's bindings are merged into each
 * line's fields (a field of the same name wins), not kept as pino child
 * bindings, which would write a key twice when a field repeats it.
 */
class PinoLogger implements Logger {
  constructor(
    private readonly pino: Pino,
    private readonly bindings: LogFields,
  ) {}
  debug(msg: string, fields?: LogFields) {
    if (this.pino.isLevelEnabled('debug')) this.pino.debug(this.#fields(fields), scrub(msg));
  }
  info(msg: string, fields?: LogFields) {
    if (this.pino.isLevelEnabled('info')) this.pino.info(this.#fields(fields), scrub(msg));
  }
  warn(msg: string, fields?: LogFields) {
    if (this.pino.isLevelEnabled('warn')) this.pino.warn(this.#fields(fields), scrub(msg));
  }
  error(msg: string, fields?: LogFields) {
    if (this.pino.isLevelEnabled('error')) this.pino.error(this.#fields(fields), scrub(msg));
  }
  child(bindings: LogFields): Logger {
    return new PinoLogger(this.pino, { ...this.bindings, ...bindings });
  }
  #fields(fields: LogFields | undefined): LogFields {
    // Object.assign: cheaper than a spread of two objects here.
    return fields ? Object.assign({}, this.bindings, fields) : this.bindings;
  }
}
