import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATING_SITES } from '../src/emulator/dating/sites.js';
import { spawnGateway, type Stack, startStack } from './support/gateway.js';
import { rememberSecret } from './support/harness.js';
import { type SignedUpUser, signUp } from './support/users.js';

/**
 * OpenTelemetry through a real OTLP/HTTP receiver on loopback: a gateway
 * process exports its spans there; a recording proxy in front of both
 * emulators shows the `traceparent` each upstream call carried.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}
const SERVER = 2;
const CLIENT = 3;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const bodyOf = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
};

/** Receives OTLP/HTTP JSON exports at /v1/traces. */
async function startReceiver() {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const body = (await bodyOf(req)).toString('utf8');
    if (req.method === 'POST' && req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) bodies.push(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const url = await listen(server);
  const spans = (): OtlpSpan[] =>
    bodies.flatMap((b) => (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  return { url, bodies, spans, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Forwards `/account/*` and `/dating/*` to the emulators, remembering each call's traceparent. */
async function startRecordingProxy(targets: { account: string; dating: string }) {
  const seen: { path: string; traceparent: string | undefined }[] = [];
  const server = createServer(async (req, res) => {
    const [, which, ...rest] = (req.url ?? '/').split('/');
    const target = new URL(`${targets[which as 'account' | 'dating']}/${rest.join('/')}`);
    seen.push({ path: rest.join('/'), traceparent: req.headers.traceparent as string | undefined });
    const body = await bodyOf(req);
    const headers = { ...req.headers, host: target.host };
    const upstream = httpRequest(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.end(body);
  });
  const url = await listen(server);
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('OpenTelemetry', () => {
  let stack: Stack;
  let user: SignedUpUser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

  beforeAll(async () => {
    stack = await startStack({}, { dating: DEMO_DATING_SITES });
    user = await signUp(stack);
    receiver = await startReceiver();
    proxy = await startRecordingProxy({ account: stack.emulator.url, dating: new URL(JSON.parse(stack.env.DATING_SITES!)[0].baseUrl).origin });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await proxy?.close();
  });

  it('exports a span tree per request, carries traceparent to both upstreams, and no secret', async () => {
    const sites = (JSON.parse(stack.env.DATING_SITES!) as { id: string; baseUrl: string }[]).map((s) => ({ ...s, baseUrl: `${proxy.url}/dating/${s.id}` }));
    const gateway = await spawnGateway(stack, {
      ACCOUNT_API_URL: `${proxy.url}/account`,
      DATING_SITES: JSON.stringify(sites),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'gateway-under-test',
    });
    const incoming = { trace: '4bf92f3577b34da6a3ce929d0e0e4736', span: '00f067aa0ba902b7' };
    const login = await gateway.gql('mutation Login($input: LoginInput!) { login(input: $input) { __typename } }', { input: { login: user.email, password: user.password } }, {
      headers: { traceparent: `00-${incoming.trace}-${incoming.span}-01` },
    });
    expect(login.data.login.__typename).toBe('AuthSuccess');
    const datingPassword = 'trace-dating-pass-9';
    rememberSecret(datingPassword);
    const created = await gateway.gql(
      'mutation Join($input: CreateDatingUserInput!) { createDatingUser(input: $input) { __typename } }',
      { input: { site: 'wellhello', email: `trace.${Date.now()}@example.com`, gender: 'FEMALE', password: datingPassword, birthDate: '1990-04-17' } },
      { token: user.token },
    );
    expect(created.data?.createDatingUser?.__typename, JSON.stringify(created)).toBe('DatingUserCreated');
    await gateway.stop(); // the shutdown sends what is buffered
    expect(await gateway.exited).toBe(0);

    const spans = receiver.spans();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);

    // The login: HTTP server span (child of the caller's traceparent) > operation > root field > upstream call.
    const call = spans.find((s) => s.kind === CLIENT && s.traceId === incoming.trace);
    expect(call?.name).toBe('POST Account API');
    const field = parentOf(call!);
    expect(field?.name).toBe('Mutation.login');
    const operation = parentOf(field!);
    expect(operation?.name).toBe('mutation Login');
    const http = parentOf(operation!);
    expect(http).toMatchObject({ name: 'POST /graphql', kind: SERVER, parentSpanId: incoming.span });
    const toAccount = proxy.seen.find((s) => s.path === 'user/auth/login' && s.traceparent?.includes(incoming.trace));
    expect(toAccount?.traceparent).toBe(`00-${incoming.trace}-${call!.spanId}-01`);

    // The dating site got the traceparent of its own client span.
    const toSite = proxy.seen.find((s) => s.path.startsWith('wellhello/'));
    const [, traceId, spanId] = toSite!.traceparent!.split('-');
    expect(byId.get(spanId!)).toMatchObject({ kind: CLIENT, name: 'POST dating site wellhello', traceId });
    expect(parentOf(parentOf(byId.get(spanId!)!)!)?.name).toBe('mutation Join');

    const exported = receiver.bodies.join('\n');
    expect(exported).toContain('gateway-under-test');
    const sitesKeys = DEMO_DATING_SITES.map((s) => s.apiKey);
    for (const secret of [user.password, user.token, datingPassword, ...sitesKeys]) expect(exported.includes(secret), 'a span holds a secret').toBe(false);
    expect(exported).not.toContain(user.email);
  });

  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT: no traceparent leaves the gateway', async () => {
    const gateway = await spawnGateway(stack, { ACCOUNT_API_URL: `${proxy.url}/account` });
    const before = proxy.seen.length;
    const viewer = await gateway.gql('query Viewer { viewer { id } }', {}, { token: user.token });
    expect(viewer.data.viewer.id).toBe(user.userId);
    await gateway.stop();
    const calls = proxy.seen.slice(before);
    expect(calls.map((c) => c.path)).toContain('user/get');
    expect(calls.every((c) => c.traceparent === undefined)).toBe(true);
  });
});
