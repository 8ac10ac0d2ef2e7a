import { ConfigError, loadConfig } from './config.js';
import { startEmbeddedUpstreams } from './emulator/embedded.js';
import { createGateway } from './gateway.js';
import { createLogger } from './infra/logger.js';

/** Entry point: read config, start (with the bundled emulators when no upstream is configured), stop on SIGTERM. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const upstreams = await startEmbeddedUpstreams(config, logger);
  const gateway = createGateway(upstreams.config, { logger, inboxUrl: upstreams.inboxUrl });
  const { url } = await gateway.start();
  logger.info(`GraphiQL ready at ${url}`, { url });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    try {
      await gateway.stop();
      await upstreams.close();
      process.exit(0);
    } catch (error) {
      logger.error('stopping failed', { error });
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
