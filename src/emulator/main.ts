import { loadConfig } from '../config.js';
import { createLogger } from '../infra/logger.js';
import { INBOX_PATH } from './account/inbox.js';
import { startAccountEmulator } from './account/server.js';
import { startDatingEmulator } from './dating/server.js';
import { openStateFile } from './state-file.js';

/**
 * `npm run emulator`: both bundled emulators alone, on their configured ports
 * and `EMULATOR_HOST` (default loopback), keeping their state in
 * `EMULATOR_STATE_FILE`.
 */
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL });
const stateFile = await openStateFile(config.EMULATOR_STATE_FILE, logger);
const host = config.EMULATOR_HOST;
const account = await startAccountEmulator({ port: config.EMULATOR_ACCOUNT_PORT, host, logger: logger.child({ component: 'account-emulator' }), stateFile });
const dating = await startDatingEmulator({ port: config.EMULATOR_DATING_PORT, host, logger: logger.child({ component: 'dating-emulator' }), stateFile });
logger.info(`Account API emulator at ${account.url} (codes at ${account.url}${INBOX_PATH}); Dating API emulator at ${dating.url} (sites: ${dating.sites.map((s) => s.id).join(', ')}); state ${stateFile ? `kept in ${stateFile.path}` : 'in memory'}`);

const stop = async () => {
  await Promise.all([account.close(), dating.close()]);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
