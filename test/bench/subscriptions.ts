/**
 * `npm run bench:subscriptions`: subscriptions at scale on one gateway
 * (issue 13, item 3). The Account emulator (holding every user's push
 * socket) and the gateway each run in a process of their own (`npm run
 * emulator`, `npm start`); this process plays the apps: SUBS_USERS users with
 * SUBS_PER_USER `accountEvents` subscriptions each, one graphql-ws socket
 * per user. It reports:
 *   - the gateway's RSS and heap before and with every subscription live, and
 *     memory per subscription;
 *   - CPU of the gateway while all are idle, and under SUBS_RATE deliveries
 *     per second for SUBS_SECONDS;
 *   - fan-out latency p50/p99 from the emulator's push (the notify that
 *     emits the upstream frame) to the app, and missing or doubled events.
 * Defaults: 1,000 users x 10 = 10,000 subscriptions, 5,000 deliveries/s for
 * 10 s. Goal: p99 < 50 ms. Exits non-zero when an event is lost or doubled
 * or a socket is refused. Never part of `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';

const USERS = Number(process.env.SUBS_USERS ?? 1000);
const PER_USER = Number(process.env.SUBS_PER_USER ?? 10);
const RATE = Number(process.env.SUBS_RATE ?? 5000);
const SECONDS = Number(process.env.SUBS_SECONDS ?? 10);
const IDLE_SECONDS = Number(process.env.SUBS_IDLE_SECONDS ?? 5);
const RESULTS = process.env.SUBS_RESULTS ?? 'bench-subscriptions.json';
const GOAL_P99_MS = 50;
const QUERY = 'subscription { accountEvents { __typename ... on Notification { title } } }';

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** `node --import tsx <entry>`, resolved once `ready` shows in its output (which is drained after). */
async function start(entry: string, env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk).slice(-100_000);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}:\n${output}`)));
  });
  return child;
}

/** A process's resident set (kB) and CPU time so far (ms, user + system), from /proc. */
function usage(pid: number) {
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return { rssKb, cpuMs: (ticks * 1000) / 100 }; // USER_HZ is 100 on Linux
}

async function json<T>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await res.json()) as T;
}

async function pool<T, R>(items: T[], workers: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  }));
  return results;
}

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 120_000) {
  const deadline = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
const mib = (kb: number) => +(kb / 1024).toFixed(1);

// 1. The emulator and the gateway, each in its own process.
const [accountPort, datingPort, gatewayPort] = await Promise.all([freePort(), freePort(), freePort()]);
const emulatorUrl = `http://127.0.0.1:${accountPort}`;
await start('src/emulator/main.ts', { EMULATOR_ACCOUNT_PORT: String(accountPort), EMULATOR_DATING_PORT: String(datingPort), EMULATOR_STATE_FILE: 'off', LOG_LEVEL: 'info' }, /Account API emulator at/);
const gateway = await start('src/main.ts', {
  PORT: String(gatewayPort), HOST: '127.0.0.1', ACCOUNT_API_URL: emulatorUrl, EMULATOR_DATING_PORT: '0', EMULATOR_STATE_FILE: 'off', LOG_LEVEL: 'info',
}, /GraphiQL ready/);
const pid = gateway.pid!;
console.log(`bench:subscriptions: ${USERS} users x ${PER_USER} = ${USERS * PER_USER} subscriptions on one gateway (pid ${pid}), emulator ${emulatorUrl} in its own process; ${RATE} deliveries/s for ${SECONDS} s`);

// 2. The users, signed up at the emulator directly.
const users = await pool(Array.from({ length: USERS }, (_, i) => i), 16, async (i) => {
  const email = `subs-${process.pid}-${i}@example.com`;
  const registered = await json<{ data: string }>(`${emulatorUrl}/user/auth/registration`, { email, password: 'bench password', name: 'Bench', surname: 'User', lang: 'en' });
  const [message] = await json<Array<{ code: string }>>(`${emulatorUrl}/_emulator/messages?to=${encodeURIComponent(email)}`);
  const verified = await json<{ data: { id: string; session: { token: string } } }>(`${emulatorUrl}/user/auth/verify`, { user_id: registered.data, email_code: message!.code });
  return { id: String(verified.data.id), token: verified.data.session.token };
});
await sleep(1000);
const before = usage(pid);

// 3. Every app: one socket, PER_USER subscriptions.
const latencies: number[] = [];
const sentAt = new Map<string, number>();
/** Per user and subscription: titles received. */
const received = users.map(() => Array.from({ length: PER_USER }, () => [] as string[]));
let refused = 0;
let withSentinel = 0;
const sockets = users.map((user, u) => {
  const socket = new WebSocket(`ws://127.0.0.1:${gatewayPort}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } })));
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { type: string; id?: string; payload?: any };
    if (process.env.SUBS_DEBUG && u === 0) console.log('app 0 got', String(raw).slice(0, 300));
    if (message.type === 'connection_ack') {
      for (let s = 0; s < PER_USER; s++) socket.send(JSON.stringify({ id: String(s), type: 'subscribe', payload: { query: QUERY } }));
    } else if (message.type === 'next') {
      const title: string | undefined = message.payload?.data?.accountEvents?.title;
      if (!title) return;
      const list = received[u]![Number(message.id)]!;
      if (title.startsWith('live-') && !list.includes(title)) withSentinel++;
      list.push(title);
      const sent = sentAt.get(title);
      if (sent !== undefined) latencies.push(performance.now() - sent);
    } else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
  });
  socket.on('close', (code, reason) => {
    refused++;
    if (process.env.SUBS_DEBUG) console.log('socket closed', code, String(reason));
  });
  socket.on('error', () => undefined);
  return socket;
});
// Live when every subscription got its user's sentinel (sent again until it arrives: a subscription may start after the first).
let pushSockets = 0;
await until('every push socket open', async () => (pushSockets = Object.keys(await json<Record<string, number>>(`${emulatorUrl}/_emulator/sockets`)).length) >= USERS - refused).catch((error: Error) => {
  throw new Error(`${error.message}: ${pushSockets} of ${USERS}, ${refused} sockets closed`);
});
for (let round = 0; withSentinel < USERS * PER_USER - refused * PER_USER && round < 20; round++) {
  await pool(users, 32, (user, u) => json(`${emulatorUrl}/_emulator/notify`, { user_id: user.id, kind: 'bench', title: `live-${u}`, body: '' }));
  await until('sentinels', () => withSentinel >= (USERS - refused) * PER_USER, 3000).catch(() => undefined);
}
if (withSentinel < (USERS - refused) * PER_USER) throw new Error(`only ${withSentinel} of ${USERS * PER_USER} subscriptions became live`);
await sleep(2000);
const live = usage(pid);

// 4. CPU while every subscription is idle (keep-alive pings only).
const idleStart = usage(pid);
await sleep(IDLE_SECONDS * 1000);
const idleCpu = (usage(pid).cpuMs - idleStart.cpuMs) / (IDLE_SECONDS * 1000);

// 5. Fan-out: RATE deliveries a second = RATE / PER_USER notifications a second, round robin over the users.
const perSecond = Math.max(1, Math.round(RATE / PER_USER));
const total = perSecond * SECONDS;
const sent: number[] = [];
latencies.length = 0;
const loadStart = usage(pid);
const started = performance.now();
await new Promise<void>((resolve) => {
  let i = 0;
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond));
    for (; i < due; i++) {
      const title = `lat-${i}`;
      sent.push(i % USERS);
      sentAt.set(title, performance.now());
      void json(`${emulatorUrl}/_emulator/notify`, { user_id: users[i % USERS]!.id, kind: 'bench', title, body: '' });
    }
    if (i >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
const sendMs = performance.now() - started;
const loadCpu = (usage(pid).cpuMs - loadStart.cpuMs) / sendMs;
const expected = total * PER_USER;
await until('every delivery', () => latencies.length >= expected, 60_000).catch(() => console.log('(not every delivery arrived within 60 s)'));
let missing = 0;
let doubled = 0;
received.forEach((subs, u) => {
  const mine = sent.flatMap((user, i) => (user === u ? [`lat-${i}`] : []));
  for (const list of subs) {
    const lat = new Set(list.filter((t) => t.startsWith('lat-')));
    doubled += list.filter((t) => t.startsWith('lat-')).length - lat.size;
    missing += mine.filter((t) => !lat.has(t)).length;
  }
});
const sorted = [...latencies].sort((a, b) => a - b);
const subscriptions = USERS * PER_USER;
const results = {
  at: new Date().toISOString(),
  node: process.version,
  users: USERS,
  subscriptions,
  memory: {
    rssBeforeMiB: mib(before.rssKb),
    rssLiveMiB: mib(live.rssKb),
    perSubscriptionKiB: +((live.rssKb - before.rssKb) / subscriptions).toFixed(2),
  },
  cpu: { idleCores: +idleCpu.toFixed(3), underLoadCores: +loadCpu.toFixed(3) },
  fanout: {
    notificationsPerSecond: perSecond,
    deliveriesPerSecond: Math.round(latencies.length / (sendMs / 1000)),
    deliveries: latencies.length,
    p50Ms: +percentile(sorted, 50).toFixed(1),
    p99Ms: +percentile(sorted, 99).toFixed(1),
    maxMs: +(sorted.at(-1) ?? NaN).toFixed(1),
    missing,
    doubled,
  },
  refused,
};
console.log(`memory: gateway RSS ${results.memory.rssBeforeMiB} MiB -> ${results.memory.rssLiveMiB} MiB with ${subscriptions} live: ${results.memory.perSubscriptionKiB} KiB per subscription`);
console.log(`cpu: ${(idleCpu * 100).toFixed(1)}% of a core idle (${IDLE_SECONDS} s), ${(loadCpu * 100).toFixed(1)}% under load`);
console.log(`fan-out: ${total} notifications -> ${latencies.length} deliveries (${results.fanout.deliveriesPerSecond}/s): p50 ${results.fanout.p50Ms} ms, p99 ${results.fanout.p99Ms} ms, max ${results.fanout.maxMs} ms (goal p99 < ${GOAL_P99_MS} ms${results.fanout.p99Ms < GOAL_P99_MS ? ', met' : ', missed'}); missing ${missing}, doubled ${doubled}, refused sockets ${refused}`);
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results: ${RESULTS}`);

for (const socket of sockets) socket.terminate();
children.forEach((c) => c.kill('SIGTERM'));
process.exit(refused > 0 || missing > 0 || doubled > 0 ? 1 : 0);
