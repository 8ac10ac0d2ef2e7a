import { ConfigError, loadConfig } from './config.js';
import { startEmbeddedUpstreams } from './emulator/embedded.js';
import { createGateway } from './gateway.js';
import { PortUnavailableError } from './infra/listen.js';
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
  let started;
  try {
    const upstreams = await startEmbeddedUpstreams(config, logger);
    const gateway = createGateway(upstreams.config, { logger, tracing, inboxUrl: upstreams.inboxUrl });
    started = { upstreams, gateway, ...(await gateway.start()) };
  } catch (error) {
    if (!(error instanceof PortUnavailableError)) throw error;
    // One line, as for a bad configuration: the user changes a variable, a stack trace would not help.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const { upstreams, gateway, url, opsUrl } = started;
  logger.info(`metrics at ${opsUrl}/metrics, readiness at ${opsUrl}/readiness`, { opsUrl, tracing: tracing !== null });
  if (upstreams.config.GRAPHIQL) logger.info(`GraphiQL ready at ${url}`, { url });
  else logger.info(`GraphQL ready at ${url} (GraphiQL is off: GRAPHIQL=true turns it on)`, { url });

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
