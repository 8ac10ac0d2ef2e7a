import { parseArgs } from 'node:util';
import { probeAccount } from './account.js';
import { probeDating } from './dating.js';
import { type CheckResult, formatReport, printableUrl } from './report.js';

/**
 * `npm run contract -- [--account-url URL [--login L --password P] [--allow-writes]]
 *                      [--dating-url URL --dating-key K] [--timeout-ms N]`
 *
 * Probes a real Account API and/or one dating site against shared/UPSTREAM.md
 * and prints which assumptions hold. Exit 0 when none fails, 1 when one
 * does, 2 for a usage error. The password and the key are never printed.
 */

const USAGE = `usage: npm run contract -- [--account-url URL [--login L --password P] [--allow-writes]]
                           [--dating-url URL --dating-key KEY] [--timeout-ms N]

  --account-url   base URL of the Account API (as ACCOUNT_API_URL)
  --login, --password
                  a test account: adds the checks that need a session (one login,
                  the read calls, one wrong-password login, then logout); the
                  password is also read from ACCOUNT_PROBE_PASSWORD
  --allow-writes  also call the endpoints that write, with requests the API must
                  refuse or that leave the data as it was
  --dating-url    a dating site's base URL (as baseUrl in DATING_SITES); only
                  requests the site must refuse are sent, so no user is created
  --dating-key    that site's API key (also read from DATING_API_KEY)
  --timeout-ms    limit of one call (default 10000)`;

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
if (accountUrl === undefined && datingUrl === undefined) fail('give --account-url, --dating-url or both');
if ((args.login === undefined) !== (password === undefined)) fail('--login and --password (or ACCOUNT_PROBE_PASSWORD) go together');
if (accountUrl === undefined && (args.login !== undefined || args.password !== undefined || args['allow-writes'])) fail('--login, --password and --allow-writes need --account-url');
if (datingUrl !== undefined && !datingKey) fail('--dating-url needs --dating-key (or DATING_API_KEY)');
const timeoutMs = args['timeout-ms'] === undefined ? undefined : Number(args['timeout-ms']);
if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)) fail('--timeout-ms must be an integer 100..120000');

const reports: CheckResult[][] = [];
if (accountUrl !== undefined) {
  const results = await probeAccount({ url: accountUrl, login: args.login, password, allowWrites: args['allow-writes'], timeoutMs });
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
