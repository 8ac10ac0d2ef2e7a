/**
 * `npm run bench:recovery`: does `startPasswordRecovery` take as long for a
 * login that exists as for one that does not? Interleaved pairs against a
 * gateway in front of the bundled Account emulator (loopback, bounded),
 * with the emulator holding each `user/auth/recovery` call 30 ms, as a real
 * upstream sending an SMS would: an answer that waited for the upstream
 * would show it. The target is a median ratio near 1 (the answer comes
 * before the upstream call, src/flows/password-recovery.ts). Exits
 * non-zero on a miss.
 */
import { loadConfig } from '../../src/config.js';
import { startAccountEmulator } from '../../src/emulator/account/server.js';
import { createGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/infra/logger.js';

const PAIRS = 300;
const UPSTREAM_DELAY_MS = 30;
const TARGET = { minRatio: 0.8, maxRatio: 1.25 };

const silent = createLogger({ level: 'silent' });
const emulator = await startAccountEmulator({ port: 0, logger: silent });
const gateway = createGateway(
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ACCOUNT_API_URL: emulator.url,
    LOG_LEVEL: 'silent',
    // Many recoveries of one login: only the timing is measured here.
    CODE_SEND_INTERVAL_SECONDS: '0',
    CODE_SENDS_PER_DAY: '10000',
    AUTH_ATTEMPTS_PER_MINUTE: '100000',
  }),
  { logger: silent },
);
const { url } = await gateway.start();

const post = async (query: string, variables: Record<string, unknown> = {}) =>
  (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })).json()) as { data?: any };

const email = `bench.recovery.${Date.now()}@example.com`;
const registered = await post(`mutation($e: String!) { register(input: { email: $e, password: "bench password 1" }) { ... on RegisterSuccess { userId } } }`, { e: email });
const messages = (await (await fetch(`${emulator.url}/_emulator/messages`)).json()) as { to: string; code: string }[];
await post(`mutation($i: VerifyRegistrationInput!) { verifyRegistration(input: $i) { __typename } }`, {
  i: { userId: registered.data.register.userId, emailCode: messages.find((m) => m.to === email)!.code },
});

const START = `mutation($l: String!) { startPasswordRecovery(input: { login: $l }) { __typename ... on StartPasswordRecoverySuccess { recoveryToken codeSentTo } } }`;
async function timed(login: string): Promise<number> {
  await fetch(`${emulator.url}/_emulator/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: 'user/auth/recovery', kind: 'delay', ms: UPSTREAM_DELAY_MS }),
  });
  const started = performance.now();
  const answer = await post(START, { l: login });
  const ms = performance.now() - started;
  if (answer.data?.startPasswordRecovery?.__typename !== 'StartPasswordRecoverySuccess') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
  return ms;
}

const known: number[] = [];
const unknown: number[] = [];
for (let i = 0; i < 20; i++) await timed(i % 2 ? email : `warm.${i}@example.com`);
for (let i = 0; i < PAIRS; i++) {
  // Alternate which goes first, so neither profits from the other's warm path.
  if (i % 2) {
    known.push(await timed(email));
    unknown.push(await timed(`nobody.${i}.${Date.now()}@example.com`));
  } else {
    unknown.push(await timed(`nobody.${i}.${Date.now()}@example.com`));
    known.push(await timed(email));
  }
}
await gateway.stop();
await emulator.close();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ratio = median(known) / median(unknown);
console.log(
  `startPasswordRecovery, ${PAIRS} interleaved pairs, upstream held ${UPSTREAM_DELAY_MS} ms: existing login median ${median(known).toFixed(2)} ms, unknown ${median(unknown).toFixed(2)} ms, ratio ${ratio.toFixed(2)} (target ${TARGET.minRatio}-${TARGET.maxRatio})`,
);
if (ratio < TARGET.minRatio || ratio > TARGET.maxRatio) {
  console.error('missed: the answer depends on whether the login exists');
  process.exit(1);
}
process.exit(0);
