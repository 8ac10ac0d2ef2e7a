import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateSettingsDocument } from '../src/client/generated/graphql.js';
import { type Stack, startStack } from './support/gateway.js';
import { pushSockets, pushSocketsAbove } from './support/emulators.js';
import { type SignedUpUser, signUp, uniqueEmail } from './support/users.js';
import { rememberSecret } from './support/harness.js';
import { typedClient } from './support/typed-client.js';
import { chromiumForTests } from './support/chromium.js';

/**
 * GraphiQL as served by the gateway, in a real Chromium (Debian's, which
 * .ci/run installs; `CHROMIUM_PATH` picks another): the page loads with nothing reachable but loopback, runs
 * a query typed into its editor with a session in its headers tab, answers
 * the first Run of the onboarding's `Register` on a fresh profile, and runs
 * `accountEvents`, showing the latest event a mutation causes in GraphiQL's
 * pane and each one in the box "Events received". A failing test saves
 * a screenshot under this file's temp dir and names it in the error.
 */

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but loopback resolves: a CDN request fails at the network level too.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];
/** The browser's waits: generous, as CI machines are slow to start Chromium and Monaco. */
const UI_TIMEOUT = 30_000;
const TEST_TIMEOUT = 3 * UI_TIMEOUT;

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'blob:' || protocol === 'data:' || protocol === 'about:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

// Skipped, saying why, only where Chromium is missing or does not start outside CI; in CI that fails.
const chromiumForFile = await chromiumForTests('graphiql.browser', (executablePath) =>
  chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 }),
);

describe.runIf(chromiumForFile.browser !== null || Boolean(process.env.CI))('GraphiQL in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let shots: string;
  beforeAll(async () => {
    browser = chromiumForFile.require();
    shots = await mkdtemp(join(tmpdir(), 'gateway-graphiql-'));
    stack = await startStack({ UPSTREAM_PUSH_RECONNECT_MIN_MS: '20', UPSTREAM_PUSH_RECONNECT_MAX_MS: '200' });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  /**
   * A fresh page whose every request is checked: anything not on loopback is
   * aborted and recorded, and the test fails on it. `test` runs with the page;
   * when it throws, a screenshot is saved first.
   */
  async function withPage(name: string, test: (page: Page, seen: { offLoopback: string[]; sockets: string[]; eventStreams: string[] }) => Promise<void>) {
    // A fresh profile (nothing stored), in the window size the onboarding is laid out for.
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const seen = { offLoopback: [] as string[], sockets: [] as string[], eventStreams: [] as string[] };
    // Aborted here, recorded by the `request` listener below (which sees every request).
    await context.route('**/*', (route) => (isLoopback(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    context.on('request', (request) => {
      if (!isLoopback(request.url())) seen.offLoopback.push(request.url());
      if ((request.headers()['accept'] ?? '').includes('text/event-stream')) seen.eventStreams.push(request.url());
    });
    page.on('websocket', (socket) => {
      seen.sockets.push(socket.url());
      if (!isLoopback(socket.url())) seen.offLoopback.push(socket.url());
    });
    try {
      await test(page, seen);
      expect(seen.offLoopback, 'requests outside loopback').toEqual([]);
    } catch (error) {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      if (error instanceof Error) error.message += `\n(screenshot: ${path})`;
      throw error;
    } finally {
      await context.close();
    }
  }

  /** Opens GraphiQL from the gateway and waits until its editors are ready. */
  async function openGraphiQL(page: Page) {
    const response = await page.goto(stack.url, { waitUntil: 'load' });
    expect(response?.headers()['content-type']).toContain('text/html');
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
    await page.locator('.graphiql-execute-button').waitFor();
  }

  /** Replaces an editor's text the way a paste does (no auto-closed brackets). */
  async function replaceEditorText(page: Page, editor: string, text: string) {
    await page.locator(`${editor} .monaco-editor`).first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  async function setSessionHeader(page: Page, token: string) {
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    // The tools section holds the variables and headers editors; the shown one is not `.hidden`.
    await replaceEditorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ Authorization: `Bearer ${token}` }));
  }

  /** The text of the result pane (Monaco renders spaces as no-break spaces). */
  async function resultText(page: Page): Promise<string> {
    return page.evaluate(() => (document.querySelector('.graphiql-response')?.textContent ?? '').replace(/\u00a0/g, ' '));
  }

  /** Opens the tab of this operation and waits until its editor shows it. */
  async function openTab(page: Page, operation: string) {
    // The tab's own click handler. Under Playwright's pointer the draggable tab list (framer-motion's
    // Reorder) takes the pointerup, so a `click()` lands on the list and changes nothing.
    await page.getByRole('tab', { name: operation, exact: true }).locator('.graphiql-tab-button').dispatchEvent('click');
    await expect.poll(() => page.locator('[role=tab][aria-selected=true] .graphiql-tab-button').textContent()).toBe(operation);
    await page.waitForFunction(
      (name) => new RegExp(`(query|mutation|subscription) ${name}\\b`).test((document.querySelector('.graphiql-query-editor')?.textContent ?? '').replace(/\u00a0/g, ' ')),
      operation,
    );
  }

  /** Shows the variables or headers editor and returns its selector. */
  async function tool(page: Page, name: 'Variables' | 'Headers'): Promise<string> {
    await page.getByRole('button', { name, exact: true }).click();
    return '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
  }

  /** Waits until the result pane shows `text` (Monaco renders spaces as no-break spaces). */
  async function resultShows(page: Page, text: string) {
    await page.waitForFunction(
      (wanted) => (document.querySelector('.graphiql-response')?.textContent ?? '').replace(/\u00a0/g, ' ').includes(wanted),
      text,
      { timeout: UI_TIMEOUT },
    );
  }

  let user: SignedUpUser;
  beforeAll(async () => {
    user = await signUp(stack);
  });

  it('blocks and reports any request outside loopback (the guard the other tests rely on)', async () => {
    await withPage('guard', async (page, seen) => {
      await openGraphiQL(page);
      const outcome = await page.evaluate(() => fetch('https://cdn.jsdelivr.net/npm/graphiql/graphiql.min.css').then(() => 'loaded', () => 'failed'));
      expect(outcome).toBe('failed');
      // Chromium may issue the request more than once (a retry after the abort); each was seen.
      expect([...new Set(seen.offLoopback)]).toEqual(['https://cdn.jsdelivr.net/npm/graphiql/graphiql.min.css']);
      seen.offLoopback.length = 0;
    });
  }, TEST_TIMEOUT);

  it('loads from the gateway alone and runs a query typed into the editor, with the session in the headers tab', async () => {
    await withPage('query', async (page, seen) => {
      await openGraphiQL(page);
      await replaceEditorText(page, '.graphiql-query-editor', '{ viewer { id email emailVerified } }');
      await setSessionHeader(page, user.token);
      await page.locator('.graphiql-execute-button').click();
      await resultShows(page, `"email": "${user.email}"`);
      await resultShows(page, `"id": "${user.userId}"`);
      expect(seen.offLoopback).toEqual([]);
    });
  }, TEST_TIMEOUT);

  it('on a fresh profile, the first Run of Register answers RegisterSuccess, its note and all tabs in view', async () => {
    await withPage('first-run', async (page) => {
      rememberSecret('correct horse 1');
      await openGraphiQL(page);
      await page.locator('.graphiql-execute-button').click();
      await resultShows(page, '"__typename": "RegisterSuccess"');
      expect(await stack.account.code('ann@example.com', 'registration')).toMatch(/^\d{6}$/);

      // Every tab is inside the visible part of the tab bar.
      const bar = (await page.locator('.graphiql-tabs').boundingBox())!;
      for (const tab of await page.locator('.graphiql-tab').all()) {
        const box = (await tab.boundingBox())!;
        expect(box.x + box.width, `tab ${await tab.textContent()}`).toBeLessThanOrEqual(bar.x + bar.width);
      }
      // Every comment line ends before the editor's buttons: nothing to scroll sideways for.
      const overflowing = await page.evaluate(() => {
        const buttons = document.querySelector('.graphiql-toolbar')!.getBoundingClientRect().left;
        return [...document.querySelectorAll('.graphiql-query-editor .view-line')]
          .filter((line) => (line.textContent ?? '').startsWith('#'))
          .filter((line) => line.firstElementChild!.getBoundingClientRect().right > buttons)
          .map((line) => line.textContent);
      });
      expect(overflowing).toEqual([]);
      await expect.poll(() => page.locator('.graphiql-query-editor').textContent()).toMatch(/#\s+Step\s+1\s+of\s+9/);

      // A reload restores GraphiQL's stored tabs as they were, with no tab added.
      await page.reload();
      await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
      await expect.poll(() => page.locator('.graphiql-tab').count()).toBe(9);
      await expect.poll(() => page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)').textContent()).toContain('ann@example.com');
    });
  }, TEST_TIMEOUT);

  it('opens with the onboarding flow as tabs and passes the session of verifyRegistration on to the next tabs', async () => {
    await withPage('onboarding', async (page) => {
      await openGraphiQL(page);
      const tabs = page.locator('.graphiql-tab .graphiql-tab-button');
      await expect.poll(() => tabs.allTextContents()).toEqual([
        'Register', 'VerifyRegistration', 'Viewer', 'UpdateSettings', 'ConfirmContactChange', 'ActivateProduct', 'AccountEvents', 'Logout', 'Login',
      ]);
      // The tab's comment names the emulator's inbox.
      await page.waitForFunction(
        (inbox) => (document.querySelector('.graphiql-query-editor')?.textContent ?? '').replace(/\u00a0/g, ' ').includes(inbox),
        `${stack.emulator.url}/_emulator/inbox`,
      );

      // Step 1 with its example variables, the email made unique.
      const email = uniqueEmail('graphiql');
      const password = 'correct horse 1';
      rememberSecret(password);
      await replaceEditorText(page, await tool(page, 'Variables'), JSON.stringify({ input: { email, password, language: 'EN' } }));
      await page.locator('.graphiql-execute-button').click();
      await resultShows(page, '"__typename": "RegisterSuccess"');
      const userId = /"userId": "([^"]+)"/.exec(await resultText(page))?.[1];
      expect(userId).toBeTruthy();
      const emailCode = await stack.account.code(email, 'registration');

      // Step 2 in the next tab: AuthSuccess fills the session header in for the other tabs.
      await openTab(page, 'VerifyRegistration');
      await replaceEditorText(page, await tool(page, 'Variables'), JSON.stringify({ input: { userId, emailCode } }));
      await page.locator('.graphiql-execute-button').click();
      await resultShows(page, '"__typename": "AuthSuccess"');
      await expect.poll(() => page.locator('#gateway-session').textContent()).toContain('the session header is filled in for the other 8 tabs');

      // Step 3 runs with it, nothing pasted.
      await openTab(page, 'Viewer');
      const headers = await tool(page, 'Headers');
      await expect.poll(() => page.locator(headers).textContent()).toContain('Bearer');
      await page.locator('.graphiql-execute-button').click();
      await resultShows(page, `"email": "${email}"`);
      await resultShows(page, `"id": "${userId}"`);
    });
  }, TEST_TIMEOUT);

  it('runs accountEvents and shows the event a mutation causes', async () => {
    await withPage('subscription', async (page, seen) => {
      await openGraphiQL(page);
      await replaceEditorText(
        page,
        '.graphiql-query-editor',
        'subscription { accountEvents { __typename ... on SettingsUpdated { settings { firstName } } } }',
      );
      await setSessionHeader(page, user.token);
      const before = await pushSockets(stack.emulator.url, user.userId);
      await page.locator('.graphiql-execute-button').click();
      // The gateway holds the user's upstream push socket once the subscription is live.
      await pushSocketsAbove(stack.emulator.url, user.userId, before, UI_TIMEOUT);

      const client = typedClient(stack.url, { token: user.token });
      const firstName = `Browser${Date.now() % 100_000}`;
      const { updateSettings } = await client.execute(UpdateSettingsDocument, { input: { firstName } });
      expect(updateSettings.__typename).toBe('UpdateSettingsSuccess');
      await resultShows(page, '"__typename": "SettingsUpdated"');
      await resultShows(page, `"firstName": "${firstName}"`);

      // GraphiQL shows the latest event; the box lists each one received.
      const { updateSettings: again } = await client.execute(UpdateSettingsDocument, { input: { firstName: `${firstName}b` } });
      expect(again.__typename).toBe('UpdateSettingsSuccess');
      await resultShows(page, `"firstName": "${firstName}b"`);
      const box = page.getByRole('status', { name: 'Events received' });
      await expect.poll(() => box.textContent()).toContain('Events received: 2 (listening)');
      expect(await box.locator('li summary').allTextContents()).toEqual([expect.stringMatching(/^\d.* SettingsUpdated$/), expect.stringMatching(/^\d.* SettingsUpdated$/)]);
      const fields = await box.locator('li pre').allTextContents();
      expect(fields.map((text) => JSON.parse(text))).toEqual([{ settings: { firstName } }, { settings: { firstName: `${firstName}b` } }]);
      // Stopped (the button runs and stops), the box says so and keeps the list.
      await page.locator('.graphiql-execute-button').click();
      await expect.poll(() => box.textContent()).toContain('Events received: 2 (stopped');
      // Over SSE from the gateway itself: GraphiQL's headers tab reaches only HTTP requests (src/gateway.ts).
      expect(seen.eventStreams.some((url) => url.startsWith(stack.url))).toBe(true);
    });
  }, TEST_TIMEOUT);
});
