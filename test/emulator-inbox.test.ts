import { describe, expect, it } from 'vitest';
import { useAccountEmulator } from './support/emulators.js';
import { signUp } from './support/users.js';

/** The dev inbox page of the Account emulator: self-contained HTML over /_emulator/messages. */
const account = useAccountEmulator();

describe('GET /_emulator/inbox', () => {
  it('is a self-contained page that reads /_emulator/messages, latest first, and loads nothing from elsewhere', async () => {
    const res = await fetch(`${account.emulator.url}/_emulator/inbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<title>Emulator inbox</title>');
    expect(html).toContain("fetch('/_emulator/messages'");
    expect(html).toContain('.reverse()');
    expect(html).toMatch(/setInterval\(refresh, \d+\)/);
    // Nothing from a CDN or any other origin, and data is written as text only.
    expect(html).not.toMatch(/\bsrc=|<link|https?:\/\//);
    expect(html).not.toContain('innerHTML');
  });

  it('holds no code itself (codes come only from the JSON it fetches) and answers POST with 405', async () => {
    await signUp(account.client);
    const codes = ((await account.dev('GET', 'messages')) as { code: string }[]).map((m) => m.code);
    expect(codes.length).toBeGreaterThan(0);
    const html = await (await fetch(`${account.emulator.url}/_emulator/inbox`)).text();
    for (const code of codes) expect(html).not.toContain(code);
    expect((await fetch(`${account.emulator.url}/_emulator/inbox`, { method: 'POST' })).status).toBe(405);
  });
});
