/**
 * The fixed-answer upstream: the Account API contract of shared/UPSTREAM.md
 * for the three reads the workloads need (`user/get`, `user/settings/get`,
 * `user/products/get`), each answering one valid envelope prepared at start.
 * It does no work per request, so it is the limit every target runs against.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const user = {
  id: 'e7fa8fde-f97e-4ced-88bb-b8f34f2b8499', email: 'ann@example.com', phone: '+15551234567',
  email_verified: true, phone_verified: true, name: 'Ann', surname: 'Lee', lang: 'en',
  modules: ['dating'], created_at: '2026-01-02T03:04:05Z', session: null,
};
const settings = {
  first_name: 'Ann', last_name: 'Lee', avatar: 'cdn-avatar-1', sex: 1, news: true,
  restriction_1: true, restriction_2: false, restriction_3: true, restriction_4: false, restriction_5: false,
  lang: 'en', birthday: 640310400, dating: { model: 'classic' }, email: 'ann@example.com', phone: '+15551234567',
};
const product = (id: string, state: string) => ({
  id, title: `The ${id} product`, description: `What ${id} is about, in a sentence or two.`,
  policy: `The agreement of ${id}.`, icon: `https://cdn.example.com/${id}.svg`,
  info: id === 'dating' ? 'https://example.com/dating' : null, state,
});
const products = [product('dating', 'activated'), product('astrology', 'deactivated'), product('games', 'disabled')];

const envelope = (data: unknown) => Buffer.from(JSON.stringify({ state: 200, data }));
const ANSWERS = new Map<string, Buffer>([
  ['/user/get', envelope(user)],
  ['/user/settings/get', envelope(settings)],
  ['/user/products/get', envelope(products)],
]);
const NO_SESSION = Buffer.from(JSON.stringify({ state: 403, data: null }));

export interface Stub {
  url: string;
  close(): Promise<void>;
}

export function startUpstreamStub(port = 0): Promise<Stub> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = req.method === 'POST' && req.headers.authorization ? ANSWERS.get(req.url ?? '') : undefined;
      if (!answer && !ANSWERS.has(req.url ?? '')) {
        res.writeHead(404).end();
        return;
      }
      const body = answer ?? NO_SESSION;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}`,
        close: () => new Promise<void>((done) => { server.close(() => done()); server.closeAllConnections(); }),
      });
    }),
  );
}
