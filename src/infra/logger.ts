import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { currentRequest } from './request-scope.js';

/**
 * The gateway's structured logger, on pino: one JSON object per line, or
 * pino-pretty's coloured lines when stdout is a terminal. Every line of an
 * HTTP request carries its `requestId`.
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
const MAX_DEPTH = 6;

function scrub(text: string): string {
  return SECRET_IN_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return { name: value.name, message: scrub(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (without their newline). Default: stdout. Tests pass a collector. */
  write?: (line: string) => void;
  /** pino-pretty instead of JSON. Default: when stdout is a terminal (and `write` is not given). */
  pretty?: boolean;
  bindings?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: redactFields,
      },
      mixin: requestIdOfLine,
    },
    destination(options),
  );
  return new PinoLogger(instance, options.bindings ?? {});
}

const redactFields = (fields: LogFields) => redact(fields) as LogFields;

function requestIdOfLine(): LogFields {
  const request = currentRequest();
  return request ? { requestId: request.id } : {};
}

function destination(options: LoggerOptions): DestinationStream {
  if (options.write) {
    const write = options.write;
    return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  }
  if (options.pretty ?? process.stdout.isTTY === true) {
    // Loaded only for a terminal: production (stdout a pipe) never pays for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
  }
  return pino.destination({ fd: 1, sync: true });
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
    return fields ? { ...this.bindings, ...fields } : this.bindings;
  }
}
