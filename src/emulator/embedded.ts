import type { Config } from '../config.js';
import { bindingPort } from '../infra/listen.js';
import { createLogger, type Logger } from '../infra/logger.js';
import { INBOX_PATH } from './account/inbox.js';
import { startAccountEmulator } from './account/server.js';
import { startDatingEmulator } from './dating/server.js';
import { DEMO_DATING_SITES } from './dating/sites.js';
import { openStateFile } from './state-file.js';

/** Display names of the demo dating sites. */
const DEMO_SITE_NAMES: Record<string, string> = { wellhello: 'WellHello', lovecrush: 'LoveCrush' };

export interface EmbeddedUpstreams {
  /** The config with every unset upstream pointed at its emulator. */
  config: Config;
  /** The Account emulator's inbox of delivered codes, when it runs. */
  inboxUrl?: string;
  close(): Promise<void>;
}

/**
 * The embedded default: for each upstream whose URL is not configured, start
 * its bundled emulator in this process and point the config at it.
 *
 * The emulators log to stderr, apart from the gateway's log on stdout: the
 * Account emulator's "code delivered" lines are its stand-in for SMS and
 * e-mail (shared/UPSTREAM.md §4) and must not mix with the gateway's log,
 * which never holds a code. Same logger, same format: pretty on a terminal
 * (where both streams show together), JSON lines otherwise. They listen on
 * `EMULATOR_HOST` and keep their state in `EMULATOR_STATE_FILE`.
 */
export async function startEmbeddedUpstreams(config: Config, logger: Logger): Promise<EmbeddedUpstreams> {
  const emulatorLog = createLogger({ level: config.LOG_LEVEL, stream: 'stderr' });
  const closers: (() => Promise<void>)[] = [];
  const resolved = { ...config };
  let inboxUrl: string | undefined;
  const anyEmulated = !config.ACCOUNT_API_URL || !config.DATING_SITES;
  const stateFile = anyEmulated ? await openStateFile(config.EMULATOR_STATE_FILE, emulatorLog) : undefined;
  const host = config.EMULATOR_HOST;
  if (!config.ACCOUNT_API_URL) {
    const port = config.EMULATOR_ACCOUNT_PORT;
    const emulator = await bindingPort({ port: 'EMULATOR_ACCOUNT_PORT', host: 'EMULATOR_HOST' }, port, host, () =>
      startAccountEmulator({ port, host, logger: emulatorLog.child({ component: 'account-emulator' }), stateFile }),
    );
    closers.push(emulator.close);
    resolved.ACCOUNT_API_URL = emulator.url;
    inboxUrl = `${emulator.url}${INBOX_PATH}`;
    logger.info(`ACCOUNT_API_URL is not set: started the bundled Account API emulator at ${emulator.url}; open the inbox of delivered codes at ${inboxUrl} (they are also logged on stderr)`);
  }
  if (!config.DATING_SITES) {
    const port = config.EMULATOR_DATING_PORT;
    const emulator = await bindingPort({ port: 'EMULATOR_DATING_PORT', host: 'EMULATOR_HOST' }, port, host, () =>
      startDatingEmulator({ port, host, sites: DEMO_DATING_SITES, logger: emulatorLog.child({ component: 'dating-emulator' }), stateFile }),
    ).catch(async (error: unknown) => {
      await Promise.all(closers.map((close) => close()));
      throw error;
    });
    closers.push(emulator.close);
    resolved.DATING_SITES = emulator.sites.map((site) => ({
      id: site.id,
      name: DEMO_SITE_NAMES[site.id] ?? site.id,
      baseUrl: `${emulator.url}/${site.id}`,
      apiKey: site.apiKey,
      affiseAffiliateId: site.affiseAffiliateId,
    }));
    logger.info(`DATING_SITES is not set: started the bundled Dating API emulator at ${emulator.url} with the demo sites ${emulator.sites.map((s) => s.id).join(', ')}; created users are listed at ${emulator.url}/_emulator/users`);
  }
  if (anyEmulated) logger.info(stateFile ? `the bundled emulators keep their state in ${stateFile.path} (POST /_emulator/reset on an emulator clears its part; EMULATOR_STATE_FILE=off keeps it in memory)` : 'the bundled emulators keep their state in memory (EMULATOR_STATE_FILE=off)');
  return {
    config: resolved,
    inboxUrl,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
