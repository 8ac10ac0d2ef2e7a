import { type Config, ConfigError, loadConfig, retiredIn, unsetUpstreams } from './config.js';
import { createGateway } from './gateway.js';
import { PortUnavailableError } from './infra/listen.js';
import { createLogger, type Logger } from './infra/logger.js';
import { Tracing } from './infra/tracing.js';

/** Ends the process with one line on stderr: the user changes a variable, a stack trace would not help. */
function refuse(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** The upstreams as configured, or with the unset ones served by the bundled emulators (loaded only then). */
async function upstreamsFor(
  config: Config,
  unset: readonly string[],
  logger: Logger,
): Promise<{ config: Config; inboxUrl?: string; close(): Promise<void> }> {
  if (unset.length === 0) return { config, close: async () => undefined };
  if (config.NODE_ENV === 'production') {
    const state = config.EMULATOR_STATE_FILE ? `passwords kept in clear in ${config.EMULATOR_STATE_FILE}` : 'passwords kept in clear in memory';
    logger.warn(`EMULATORS=on in production: ${unset.join(' and ')} served by the bundled emulators, fake backends for a staging demo only (${state})`);
  }
  const { startEmbeddedUpstreams } = await import('./emulator/embedded.js');
  return startEmbeddedUpstreams(config, logger);
}

/**
 * Entry point: read config, start (with the bundled emulators for the
 * upstreams not configured, outside production or with EMULATORS=on), drain
 * on SIGTERM or SIGINT (docs/deploy.md "Graceful shutdown"): the gateway
 * first, the embedded emulators last. A second signal ends the process at once.
 */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuse(error.message);
  }
  const unset = unsetUpstreams(config);
  if (unset.length > 0 && !config.EMULATORS) {
    const why = config.NODE_ENV === 'production' ? 'the bundled emulators never start with NODE_ENV=production' : 'EMULATORS is off';
    refuse(`${unset.join(' and ')} must be set: ${why} (EMULATORS=on starts them anyway, for a demo on fake backends)`);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  for (const line of retiredIn(process.env)) logger.warn(line);
  const tracing = await Tracing.start({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME });
  let started;
  try {
    const upstreams = await upstreamsFor(config, unset, logger);
    const gateway = createGateway(upstreams.config, { logger, tracing, inboxUrl: upstreams.inboxUrl });
    started = { upstreams, gateway, ...(await gateway.start()) };
  } catch (error) {
    if (!(error instanceof PortUnavailableError)) throw error;
    refuse(error.message);
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
