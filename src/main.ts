import { ConfigError, loadConfig } from './config.js';
import { startEmbeddedUpstreams } from './emulator/embedded.js';
import { createGateway } from './gateway.js';
import { createLogger } from './infra/logger.js';
import { Tracing } from './infra/tracing.js';

/**
 * Entry point: read config, start (with the bundled emulators when no
 * upstream is configured), drain on SIGTERM or SIGINT (docs/deploy.md
 * "Graceful shutdown"): the gateway first, the embedded emulators last. A
 * second signal ends the process at once.
 */
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
  const tracing = await Tracing.start({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME });
  const upstreams = await startEmbeddedUpstreams(config, logger);
  const gateway = createGateway(upstreams.config, { logger, tracing, inboxUrl: upstreams.inboxUrl });
  const { url, opsUrl } = await gateway.start();
  logger.info(`metrics at ${opsUrl}/metrics, readiness at ${opsUrl}/readiness`, { opsUrl, tracing: tracing !== null });
  logger.info(`GraphiQL ready at ${url}`, { url });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('draining', { signal, graceMs: config.SHUTDOWN_GRACE_MS });
    try {
      await gateway.stop();
      await tracing?.shutdown();
      await upstreams.close();
      logger.info('stopped');
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
