import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { UpstreamAnswerNotJson, UpstreamAnswerTooLarge, UpstreamDeadlinePassed, UpstreamTimeout, UpstreamUnavailable } from '../domain/errors.js';

export interface UpstreamResponse {
  status: number;
  /** The parsed JSON body. */
  json: unknown;
  /** Response headers, names lower-cased, a repeated name's values in an array. */
  headers: IncomingHttpHeaders;
}

/**
 * One call's handler of undici's dispatch API (the controller methods of
 * undici 7): status, headers and the body as text, parsed as JSON at the
 * end, settled once. Cheaper than `pool.request` (no body stream, no async
 * resource, no abort signal per call): this runs for every upstream call.
 * `cancel` settles it at once and aborts the request, at once when it has a
 * connection, else as soon as undici hands it one.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  #timer: NodeJS.Timeout | undefined;
  #cut: 'timeout' | 'deadline' = 'timeout';
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #headers: IncomingHttpHeaders | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #settled = false;

  constructor(
    private readonly name: string,
    private readonly maxBodyBytes: number,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  /**
   * Settles the call after `ms` with `cut`'s error, even while it waits in the
   * pool's queue, where undici would keep it until a connection frees.
   */
  limit(ms: number, cut: 'timeout' | 'deadline'): void {
    this.#cut = cut;
    this.#timer = setTimeout(Exchange.#expire, ms, this);
  }

  /** The timer's callback, one for every call (no closure per call). */
  static #expire(exchange: Exchange): void {
    exchange.cancel(exchange.#cut === 'timeout' ? new UpstreamTimeout(exchange.name) : new UpstreamDeadlinePassed(exchange.name, true));
  }

  cancel(error: Error): void {
    if (this.#settle()) this.reject(error);
    this.#controller?.abort(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#settled) controller.abort(new UpstreamUnavailable(this.name, 'cancelled'));
    else this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.#status = status;
    this.#headers = headers;
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > this.maxBodyBytes) this.cancel(new UpstreamAnswerTooLarge(this.name, status));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.maxBodyBytes) this.cancel(new UpstreamAnswerTooLarge(this.name, this.#status));
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (!this.#settle()) return;
    const chunks = this.#chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.reject(new UpstreamAnswerNotJson(this.name, this.#status));
      return;
    }
    this.resolve({ status: this.#status, json, headers: this.#headers! });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#settle()) this.reject(error);
  }

  /** True the first time: the call is settled now. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    return true;
  }
}
