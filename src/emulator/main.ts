import { loadConfig } from '../config.js';
import { createLogger } from '../infra/logger.js';
import { startAccountEmulator } from './account/server.js';
import { startDatingEmulator } from './dating/server.js';

/** `npm run emulator`: both bundled emulators alone, on their configured ports. */
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL });
const account = await startAccountEmulator({ port: config.EMULATOR_ACCOUNT_PORT, host: '0.0.0.0', logger: logger.child({ component: 'account-emulator' }) });
const dating = await startDatingEmulator({ port: config.EMULATOR_DATING_PORT, host: '0.0.0.0', logger: logger.child({ component: 'dating-emulator' }) });
logger.info(`Account API emulator at ${account.url} (codes at ${account.url}/_emulator/messages); Dating API emulator at ${dating.url} (sites: ${dating.sites.map((s) => s.id).join(', ')})`);

const stop = async () => {
  await Promise.all([account.close(), dating.close()]);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
