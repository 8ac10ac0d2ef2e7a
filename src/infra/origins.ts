/**
 * Which browser origins may use the gateway (config CORS_ORIGINS): the
 * gateway's own (GraphiQL is served from it) and the allowlist, nothing else.
 * One decision for HTTP (CORS headers) and graphql-ws upgrades (refused with
 * 403), so a foreign page can neither read answers nor open a socket.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;

  constructor(allowlist: readonly string[]) {
    this.#allowed = new Set(allowlist);
  }

  /**
   * True for an `Origin` on the allowlist or equal to the gateway's own
   * (its host is the request's `Host`); an absent `Origin` (mobile apps,
   * servers, same-origin GETs) is not a browser's cross-origin request and
   * passes.
   */
  allows(origin: string | null | undefined, host: string | null | undefined): boolean {
    if (origin == null || origin === '') return true;
    return this.isOwn(origin, host) || this.#allowed.has(origin);
  }

  /** Only when the `Origin` is present, so an absent one gets no CORS headers. */
  allowsCrossOrigin(origin: string | null | undefined, host: string | null | undefined): origin is string {
    return origin != null && origin !== '' && this.allows(origin, host);
  }

  private isOwn(origin: string, host: string | null | undefined): boolean {
    if (!host || !URL.canParse(origin)) return false;
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  }
}

/** Yoga's `cors` option: headers only for allowed origins, none (so the browser blocks) for others. */
export function corsFor(policy: OriginPolicy) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!policy.allowsCrossOrigin(origin, request.headers.get('host'))) return false as const;
    return {
      origin: [origin],
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'accept'],
      // Bearer tokens, no cookies: the gateway never needs the browser's credentials.
      credentials: false,
      maxAge: 600,
    };
  };
}
