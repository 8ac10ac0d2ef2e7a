import { Pool, errors as undiciErrors } from 'undici';
import { UpstreamAnswerNotJson, UpstreamAnswerTooLarge, UpstreamTimeout, UpstreamUnavailable, UpstreamUnreachable } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';

/** Options of one upstream origin. */
export interface UpstreamHttpOptions {
  /** Name used in errors and logs, e.g. "Account API". */
  name: string;
  /** `http(s)://host:port`; a path prefix is kept and prepended to every call. */
  baseUrl: string;
  /** Limit of one call, connect to last body byte, in ms. */
  timeoutMs: number;
  /** Largest body accepted; a larger answer is a transport failure. */
  maxBodyBytes: number;
  /** Keep-alive connections to the origin. */
  connections: number;
  logger: Logger;
}

export interface UpstreamRequest {
  method?: 'POST' | 'GET';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface UpstreamResponse {
  status: number;
  /** The parsed JSON body. */
  json: unknown;
  /** Response headers, names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One keep-alive connection pool to an upstream origin. It never follows
 * redirects, bounds every call by a timeout and a body size, and turns every
 * transport failure into an UpstreamUnavailable (UpstreamUnreachable with its
 * `errno`, UpstreamAnswerNotJson and UpstreamAnswerTooLarge with their `status`) or UpstreamTimeout:
 * callers see a status and parsed JSON, or one of those errors.
 */
export class UpstreamHttp {
  readonly #pool: Pool;
  readonly #prefix: string;

  constructor(private readonly options: UpstreamHttpOptions) {
    const url = new URL(options.baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
    });
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { name, timeoutMs, maxBodyBytes, logger } = this.options;
    const started = performance.now();
    // One plain timer per call, cleared at the end: AbortSignal.timeout's
    // timers live until a GC collects them, which costs at thousands of calls a second.
    const abort = new AbortController();
    const { signal } = abort;
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const res = await this.#pool.request({
        method: req.method ?? 'POST',
        path: `${this.#prefix}/${req.path.replace(/^\/+/, '')}`,
        headers: req.headers,
        body: req.body,
        signal,
      });
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxBodyBytes) {
        discard(res.body);
        throw new UpstreamAnswerTooLarge(name, res.statusCode);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBodyBytes) {
          discard(res.body);
          throw new UpstreamAnswerTooLarge(name, res.statusCode);
        }
        chunks.push(chunk as Buffer);
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        throw new UpstreamAnswerNotJson(name, res.statusCode);
      }
      logger.debug('upstream call', { upstream: name, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) });
      return { status: res.statusCode, json, headers: res.headers };
    } catch (error) {
      const failure = this.#classify(error, signal);
      logger.warn('upstream call failed', { upstream: name, path: req.path, error: failure.name, reason: failure instanceof UpstreamUnavailable ? failure.reason : 'timeout', ms: Math.round(performance.now() - started) });
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  #classify(error: unknown, signal: AbortSignal): UpstreamUnavailable | UpstreamTimeout {
    const { name } = this.options;
    if (error instanceof UpstreamUnavailable || error instanceof UpstreamTimeout) return error;
    if (
      signal.aborted ||
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError
    ) {
      return new UpstreamTimeout(name);
    }
    const code = (error as { code?: unknown })?.code;
    return typeof code === 'string' ? new UpstreamUnreachable(name, code) : new UpstreamUnavailable(name, 'transport error');
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Drops a body mid-stream; the connection is closed, and the abort is expected. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }) {
  body.on('error', () => {});
  body.destroy();
}
