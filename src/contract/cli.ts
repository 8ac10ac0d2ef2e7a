import { parseArgs } from 'node:util';
import { probeAccount } from './account.js';
import { probeDating } from './dating.js';
import { type CheckResult, formatReport, printableUrl } from './report.js';

/**
 * `ACCOUNT_PROBE_PASSWORD=… DATING_API_KEY=… npm run contract --
 *    [--account-url URL [--login L] [--allow-writes]] [--dating-url URL] [--timeout-ms N]`
 *
 * Probes a real Account API and/or one dating site against shared/UPSTREAM.md
 * and prints which assumptions hold. Exit 0 when none fails, 1 when one
 * does, 2 for a usage error. The password and the key come from the
 * environment: a command line is seen by every user of the machine (`ps`)
 * and kept in shell history. `--password` and `--dating-key` still work,
 * with a warning. The password and the key are never printed.
 */

const USAGE = `usage: [ACCOUNT_PROBE_PASSWORD=…] [DATING_API_KEY=…] npm run contract --
         [--account-url URL [--login L] [--allow-writes]] [--dating-url URL] [--timeout-ms N]

  --account-url   base URL of the Account API (as ACCOUNT_API_URL)
  --login         a test account, its password in ACCOUNT_PROBE_PASSWORD: adds the
                  checks that need a session (one login, the read calls, one
                  wrong-password login, then logout)
  --allow-writes  also call the endpoints that write, with requests the API must
                  refuse or that leave the data as it was
  --dating-url    a dating site's base URL (as baseUrl in DATING_SITES), its API key
                  in DATING_API_KEY; only requests the site must refuse are sent,
                  so no user is created
  --timeout-ms    limit of one call (default 10000)
  --password, --dating-key
                  the secrets on the command line instead (visible in ps and shell
                  history: prefer the environment variables)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function httpUrl(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  return fail(`--${name} must be an http(s) URL`);
}

let args;
try {
  args = parseArgs({
    options: {
      'account-url': { type: 'string' },
      login: { type: 'string' },
      password: { type: 'string' },
      'allow-writes': { type: 'boolean', default: false },
      'dating-url': { type: 'string' },
      'dating-key': { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const accountUrl = args['account-url'] === undefined ? undefined : httpUrl('account-url', args['account-url']);
const datingUrl = args['dating-url'] === undefined ? undefined : httpUrl('dating-url', args['dating-url']);
const datingKey = args['dating-key'] ?? process.env.DATING_API_KEY;
const password = args.password ?? process.env.ACCOUNT_PROBE_PASSWORD;
for (const [flag, variable] of [['password', 'ACCOUNT_PROBE_PASSWORD'], ['dating-key', 'DATING_API_KEY']] as const) {
  if (args[flag] !== undefined) {
    process.stderr.write(`warning: --${flag} puts a secret on the command line (ps, shell history); set ${variable} instead\n`);
  }
}
if (accountUrl === undefined && datingUrl === undefined) fail('give --account-url, --dating-url or both');
if (args.login !== undefined && password === undefined) fail('--login needs its password in ACCOUNT_PROBE_PASSWORD (or --password)');
if (args.password !== undefined && args.login === undefined) fail('--password needs --login');
if (accountUrl === undefined && (args.login !== undefined || args.password !== undefined || args['allow-writes'])) fail('--login, --password and --allow-writes need --account-url');
if (datingUrl !== undefined && !datingKey) fail('--dating-url needs DATING_API_KEY (or --dating-key)');
const timeoutMs = args['timeout-ms'] === undefined ? undefined : Number(args['timeout-ms']);
if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)) fail('--timeout-ms must be an integer 100..120000');

const reports: CheckResult[][] = [];
if (accountUrl !== undefined) {
  const results = await probeAccount({ url: accountUrl, login: args.login, password: args.login === undefined ? undefined : password, allowWrites: args['allow-writes'], timeoutMs });
  const mode = args['allow-writes'] ? 'writes allowed' : 'read-only: no data is changed';
  process.stdout.write(`${formatReport(`Account API contract probe of ${printableUrl(accountUrl)} (${mode})`, results)}\n`);
  reports.push(results);
}
if (datingUrl !== undefined) {
  const results = await probeDating({ url: datingUrl, key: datingKey!, timeoutMs });
  process.stdout.write(`${formatReport(`Dating API v2 contract probe of ${printableUrl(datingUrl)} (only requests the site must refuse)`, results)}\n`);
  reports.push(results);
}
process.exit(reports.flat().some((r) => r.verdict === 'fails') ? 1 : 0);
