import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

export interface GraphiQLOptions {
  /** The GraphQL endpoint's path, where browsers get GraphiQL. @default '/graphql' */
  path?: string;
  /** The page, rendered once (it is about 9 MB: GraphiQL is bundled, nothing loads from a CDN). */
  render: () => string;
}

type Encoding = 'br' | 'gzip' | 'identity';
const compress: Record<Exclude<Encoding, 'identity'>, (page: Buffer) => Promise<Buffer>> = {
  br: (page) => promisify(brotliCompress)(page, { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: page.length } }),
  gzip: (page) => promisify(gzip)(page, { level: 6 }),
};

/**
 * GraphiQL on `GET /graphql` for browsers (`Accept: text/html`), like
 * yoga's own, but rendered once and compressed once per encoding (brotli
 * or gzip, as the browser accepts), with an `ETag` so a reload is answered
 * 304 without a body, and `Cache-Control` so the page is reused for five
 * minutes. Put it in place of yoga's `graphiql` option (config GRAPHIQL).
 */
export function useGraphiQL({ path = '/graphql', render }: GraphiQLOptions): Plugin {
  let page: { body: Buffer; etag: string } | undefined;
  const encoded = new Map<Encoding, Promise<Buffer>>();
  const pageOnce = () => {
    if (!page) {
      const body = Buffer.from(render());
      page = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    }
    return page;
  };
  const bodyFor = (encoding: Encoding): Promise<Buffer> => {
    let body = encoded.get(encoding);
    if (!body) {
      const { body: plain } = pageOnce();
      body = encoding === 'identity' ? Promise.resolve(plain) : compress[encoding](plain);
      encoded.set(encoding, body);
    }
    return body;
  };

  return {
    // Not async: every other request passes at once, without a promise.
    onRequest(payload) {
      const { request } = payload;
      if (request.method !== 'GET' || !request.headers.get('accept')?.includes('text/html')) return;
      // `url` only now: reading it parses the URL.
      const { pathname } = payload.url;
      if (pathname !== path && pathname !== `${path}/`) return;
      return answer(request, payload.endResponse, payload.fetchAPI);
    },
  };

  /** GraphiQL's page: 304 for a known ETag, else the page in the best encoding the client takes. */
  async function answer(request: Request, endResponse: (response: Response) => void, fetchAPI: { Response: typeof Response }) {
    const { etag } = pageOnce();
    const headers = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'public, max-age=300',
      etag,
      vary: 'Accept-Encoding',
    };
    if (request.headers.get('if-none-match')?.split(/\s*,\s*/).includes(etag)) {
      endResponse(new fetchAPI.Response(null, { status: 304, headers }));
      return;
    }
    const encoding = pickEncoding(request.headers.get('accept-encoding'));
    const body = await bodyFor(encoding);
    endResponse(
      new fetchAPI.Response(new Uint8Array(body), {
        status: 200,
        headers: { ...headers, ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }), 'content-length': String(body.length) },
      }),
    );
  }
}

/** brotli, else gzip, else none; `q=0` refuses an encoding. */
export function pickEncoding(acceptEncoding: string | null): Encoding {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase().split(';'))
      .filter(([, ...params]) => !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p)))
      .map(([name]) => name),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return 'identity';
}
