/** The gateway as `npm start` runs it (default config, info logs), in front of the stub. */
import { loadConfig } from '../../../src/config.js';
import { createGateway } from '../../../src/gateway.js';
import { createLogger } from '../../../src/infra/logger.js';
import { serveTarget } from './serve.js';

await serveTarget(async (upstream) => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', ACCOUNT_API_URL: upstream, LOG_LEVEL: 'info' });
  const gateway = createGateway(config, { logger: createLogger({ level: config.LOG_LEVEL }) });
  const { url } = await gateway.start();
  return { url, close: () => gateway.stop() };
});
