import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * The HTTP side of a graceful shutdown. Every request is tracked until its
 * response closes. `drain(graceMs)` stops accepting connections, closes idle
 * keep-alive ones, cuts subscription streams (SSE, multipart), asks the other
 * in-flight responses to close their connection when done, and waits up to
 * `graceMs` for them; whatever is still open then is cut.
 */
export class HttpDrain {
  readonly #inFlight = new Set<ServerResponse>();
  #draining = false;
  #onIdle: (() => void) | undefined;

  constructor(
    private readonly server: Server,
    private readonly hooks: { started?: () => void; ended?: (req: IncomingMessage, res: ServerResponse) => void } = {},
  ) {}

  get inFlight(): number {
    return this.#inFlight.size;
  }

  track(req: IncomingMessage, res: ServerResponse): void {
    if (this.#draining) res.setHeader('connection', 'close');
    this.#inFlight.add(res);
    this.hooks.started?.();
    res.once('close', () => {
      this.#inFlight.delete(res);
      this.hooks.ended?.(req, res);
      if (this.#inFlight.size === 0) this.#onIdle?.();
    });
  }

  /** Resolves with the number of requests cut after `graceMs`. */
  async drain(graceMs: number): Promise<{ cut: number }> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const res of this.#inFlight) {
      // A subscription stream never finishes by itself: it is cut, and its client resumes elsewhere.
      if (isStream(res)) res.destroy();
      else if (!res.headersSent) res.setHeader('connection', 'close');
    }
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    const cut = this.#inFlight.size;
    this.server.closeAllConnections();
    await closed;
    return { cut };
  }
}

/** An SSE or multipart subscription response (its headers are out). */
function isStream(res: ServerResponse): boolean {
  const type = res.headersSent ? String(res.getHeader('content-type') ?? '') : '';
  return type.startsWith('text/event-stream') || type.startsWith('multipart/mixed');
}
