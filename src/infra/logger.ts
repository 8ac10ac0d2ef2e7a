/**
 * A small structured logger: one JSON object per line. Before anything is
 * written, values under keys that can hold a secret (passwords, codes,
 * tokens, tickets, API keys) are replaced, in the fields and in a child's
 * bindings, and strings lose bearer tokens and secret query parameters.
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

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

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
  /** Where lines go. Default: stdout. Tests pass a collector. */
  write?: (line: string) => void;
  bindings?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = rank[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const bindings = redact(options.bindings ?? {}) as LogFields;
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (rank[level] < threshold) return;
    const record = { time: new Date().toISOString(), level, msg: scrub(msg), ...bindings, ...(fields ? (redact(fields) as LogFields) : {}) };
    write(JSON.stringify(record));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (more) => createLogger({ ...options, bindings: { ...bindings, ...more } }),
  };
}
