/**
 * `npm run bench`: throughput, latency and memory of the gateway in front of
 * the bundled Account emulator, on loopback, with bounded loops. Each target
 * below is what a 2-core machine must reach; a miss exits non-zero. These
 * are benchmarks, never part of `npm test`.
 */
import { loadConfig } from '../../src/config.js';
import { startAccountEmulator } from '../../src/emulator/account/server.js';
import { createGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/infra/logger.js';

const TARGETS = {
  /** Requests per second of a viewer query with settings and products (3 upstream calls each). */
  minRequestsPerSecond: 300,
  /** 95th percentile latency of that query, ms. */
  maxP95Ms: 100,
  /** Heap growth after the run and a GC, MiB: no per-request leak. */
  maxHeapGrowthMiB: 30,
};
const REQUESTS = 4000;
const CONCURRENCY = 32;

const silent = createLogger({ level: 'silent' });
const emulator = await startAccountEmulator({ port: 0, logger: silent });
const gateway = createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', ACCOUNT_API_URL: emulator.url, LOG_LEVEL: 'silent' }), { logger: silent });
const { url } = await gateway.start();

async function post(body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

const email = `bench.${Date.now()}@example.com`;
const registered = await post({ query: `mutation { register(input: { email: "${email}", password: "bench password 1" }) { ... on RegisterSuccess { userId } } }` });
const messages = (await (await fetch(`${emulator.url}/_emulator/messages`)).json()) as { to: string; code: string }[];
const code = messages.find((m) => m.to === email)?.code;
const verified = await post({
  query: `mutation($input: VerifyRegistrationInput!) { verifyRegistration(input: $input) { ... on AuthSuccess { session { token } } } }`,
  variables: { input: { userId: registered.data.register.userId, emailCode: code } },
});
const token: string = verified.data.verifyRegistration.session.token;
const query = { query: `{ viewer { id email settings { sex consents { socioDemographic } } products { id state } } }` };

async function run(count: number) {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const started = performance.now();
      const result = await post(query, token);
      latencies.push(performance.now() - started);
      if (result.errors) throw new Error(`the benchmark query failed: ${JSON.stringify(result.errors)}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

await run(500); // warm-up
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const { seconds, latencies } = await run(REQUESTS);
globalThis.gc?.();
const heapGrowthMiB = (process.memoryUsage().heapUsed - heapBefore) / 1_048_576;
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;

const measured = {
  requestsPerSecond: Math.round(REQUESTS / seconds),
  p50Ms: +pct(0.5).toFixed(1),
  p95Ms: +pct(0.95).toFixed(1),
  p99Ms: +pct(0.99).toFixed(1),
  heapGrowthMiB: +heapGrowthMiB.toFixed(1),
  rssMiB: Math.round(process.memoryUsage().rss / 1_048_576),
};
console.log(JSON.stringify({ benchmark: 'viewer+settings+products', requests: REQUESTS, concurrency: CONCURRENCY, ...measured, targets: TARGETS }, null, 2));

await gateway.stop();
await emulator.close();

const misses = [
  measured.requestsPerSecond < TARGETS.minRequestsPerSecond && `throughput ${measured.requestsPerSecond} < ${TARGETS.minRequestsPerSecond} req/s`,
  measured.p95Ms > TARGETS.maxP95Ms && `p95 ${measured.p95Ms} > ${TARGETS.maxP95Ms} ms`,
  globalThis.gc && measured.heapGrowthMiB > TARGETS.maxHeapGrowthMiB && `heap growth ${measured.heapGrowthMiB} > ${TARGETS.maxHeapGrowthMiB} MiB`,
].filter(Boolean);
if (misses.length) {
  console.error(`missed: ${misses.join('; ')}`);
  process.exit(1);
}
