import { z } from 'zod';
import { group, int, optionalBool, setting } from './declare.js';

/** The bundled Account API and Dating API emulators: `npm start` without upstreams, and `npm run emulator`. */
export const emulators = group(
  'Bundled emulators',
  'Fake Account API and Dating API backends for development and demos: `npm start` runs them in the gateway process for each upstream that is not set, `npm run emulator` runs them alone. Unused when both upstreams are set.',
  {
    EMULATORS: setting(optionalBool(), 'Start the bundled emulators for the upstreams that are not set (`on`), or never (`off`).', {
      shownDefault: 'on; off when NODE_ENV=production',
      note:
        'Off and an upstream unset: the gateway exits at once with one line naming the missing variables, and listens on nothing. ' +
        '`on` in production is for a staging demo only: every start then logs a warning, since the emulators are fake backends that keep their users\' passwords in clear in `EMULATOR_STATE_FILE`.',
    }),
    EMULATOR_HOST: setting(z.string().trim().min(1).default('127.0.0.1'), 'Interface the bundled emulators listen on; the default is this machine only.'),
    EMULATOR_ACCOUNT_PORT: setting(int(4001, 0, 65535), 'Port of the Account API emulator. `0` picks a free port.'),
    EMULATOR_DATING_PORT: setting(int(4002, 0, 65535), 'Port of the Dating API emulator. `0` picks a free port.'),
    EMULATOR_STATE_FILE: setting(
      z
        .string()
        .trim()
        .default('')
        .transform((v) => (v.toLowerCase() === 'off' ? undefined : v === '' ? '.emulator/state.json' : v)),
      'File the emulators keep their users, sessions, codes, settings, products and dating users in across restarts; `off`: memory only.',
      { note: 'Written atomically, a moment after each change; relative to the working directory (`.emulator/` is git-ignored).' },
    ),
  },
);
