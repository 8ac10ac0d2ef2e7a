/**
 * The gateway as `npm start` runs it: the compiled build (dist/, made by
 * scripts/build.mjs before the bench starts), default config, info logs, in
 * front of the stub. BENCH_GATEWAY_SOURCE=1 runs src/ through tsx instead.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serveTarget } from './serve.js';

const root = resolve(import.meta.dirname, '../../..');
const from = process.env.BENCH_GATEWAY_SOURCE === '1' ? 'src' : 'dist';
const load = <M>(module: string): Promise<M> => import(pathToFileURL(resolve(root, from, `${module}.${from === 'src' ? 'ts' : 'js'}`)).href);

const { loadConfig } = await load<typeof import('../../../src/config.js')>('config');
const { createGateway } = await load<typeof import('../../../src/gateway.js')>('gateway');
const { createLogger } = await load<typeof import('../../../src/infra/logger.js')>('infra/logger');

await serveTarget(async (upstream) => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', ACCOUNT_API_URL: upstream, LOG_LEVEL: 'info' });
  const gateway = createGateway(config, { logger: createLogger({ level: config.LOG_LEVEL }) });
  const { url } = await gateway.start();
  return { url, close: () => gateway.stop() };
});
