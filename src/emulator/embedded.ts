import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startAccountEmulator } from './account/server.js';

export interface EmbeddedUpstreams {
  /** The config with every unset upstream pointed at its emulator. */
  config: Config;
  close(): Promise<void>;
}

/**
 * The embedded default: for each upstream whose URL is not configured, start
 * its bundled emulator in this process and point the config at it.
 */
export async function startEmbeddedUpstreams(config: Config, logger: Logger): Promise<EmbeddedUpstreams> {
  const closers: (() => Promise<void>)[] = [];
  const resolved = { ...config };
  if (!config.ACCOUNT_API_URL) {
    const emulator = await startAccountEmulator({
      port: config.EMULATOR_ACCOUNT_PORT,
      logger: logger.child({ component: 'account-emulator' }),
    });
    closers.push(emulator.close);
    resolved.ACCOUNT_API_URL = emulator.url;
    logger.info(`ACCOUNT_API_URL is not set: started the bundled Account API emulator at ${emulator.url}; delivered codes are listed at ${emulator.url}/_emulator/messages`);
  }
  return {
    config: resolved,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
