import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';

describe('the logger keeps secrets out of every line', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });

  it('in fields, deep fields, child bindings, messages and URLs', () => {
    logger.child({ sessionToken: 'tok-child-1', site: 'wellhello' }).info('push socket at ws://h/ws?ticket=tkt-in-url-2&x=1', {
      password: 'pw-field-3',
      nested: { a: { b: { c: { d: { e: { f: { password: 'pw-deep-4' } } } } } } },
      headers: { Authorization: 'Bearer tok-header-5', accept: 'json' },
      note: 'sent with Bearer tok-text-6',
      phone_code: '123456',
      apiKey: 'key-7',
    });
    const text = lines.join('\n');
    for (const secret of ['tok-child-1', 'tkt-in-url-2', 'pw-field-3', 'pw-deep-4', 'tok-header-5', 'tok-text-6', '123456', 'key-7']) {
      expect(text).not.toContain(secret);
    }
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'info', site: 'wellhello', headers: { accept: 'json' } });
    expect(record.msg).toBe('push socket at ws://h/ws?ticket=[redacted]&x=1');
  });

  it('drops what is below its level', () => {
    const kept: string[] = [];
    createLogger({ level: 'warn', write: (line) => kept.push(line) }).info('quiet');
    expect(kept).toEqual([]);
  });
});
