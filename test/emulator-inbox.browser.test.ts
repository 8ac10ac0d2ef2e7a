import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumForTests } from './support/chromium.js';
import { useAccountEmulator } from './support/emulators.js';
import { uniqueEmail } from './support/users.js';

/**
 * The emulator's dev inbox in a real Chromium: codes show up by themselves
 * (the page refreshes), the latest first, with nothing loaded from outside
 * loopback.
 */

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Skipped, saying why, only where Chromium is missing or does not start outside CI; in CI that fails.
const chromiumForFile = await chromiumForTests('emulator-inbox.browser', (executablePath) =>
  chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 }),
);

const account = useAccountEmulator();

describe.runIf(chromiumForFile.browser !== null || Boolean(process.env.CI))('the emulator inbox in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = chromiumForFile.require();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows new codes without a reload, latest first, and loads nothing from outside loopback', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      const { hostname, protocol } = new URL(request.url());
      if (protocol.startsWith('http') && hostname !== '127.0.0.1') foreign.push(request.url());
    });
    await page.goto(`${account.emulator.url}/_emulator/inbox`);
    await page.getByText('No codes yet').waitFor({ timeout: 30_000 });

    const email = uniqueEmail();
    const registered = await account.call('user/auth/registration', { email, password: 'inbox page 1' });
    const first = await account.lastCode(email, 'registration');
    await page.locator('td.code', { hasText: first }).waitFor({ timeout: 30_000 });

    await account.dev('POST', 'clock', { advance_seconds: 91 });
    expect((await account.call('user/auth/code', { user_id: registered.data, type: 'email' })).state).toBe(200);
    const second = await account.lastCode(email, 'registration');
    await page.locator('td.code', { hasText: second }).waitFor({ timeout: 30_000 });
    expect(await page.locator('td.code').allTextContents()).toEqual([second, first]);
    expect(await page.locator('tbody tr').first().textContent()).toContain(email);

    await page.getByLabel('Filter by address').fill('nobody@example.com');
    await page.getByText('No codes for this address.').waitFor({ timeout: 30_000 });
    expect(foreign).toEqual([]);
    await page.close();
  });
});
