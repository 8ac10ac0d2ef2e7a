import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
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

  it('writes each key once: a field repeating a binding wins', () => {
    const kept: string[] = [];
    createLogger({ write: (line) => kept.push(line) }).child({ upstream: 'account', component: 'x' }).info('call', { upstream: 'Account API' });
    expect(kept[0]!.match(/"upstream"/g)).toHaveLength(1);
    expect(JSON.parse(kept[0]!)).toMatchObject({ upstream: 'Account API', component: 'x' });
  });

  it('drops what is below its level', () => {
    const kept: string[] = [];
    createLogger({ level: 'warn', write: (line) => kept.push(line) }).info('quiet');
    expect(kept).toEqual([]);
  });
});

describe('the log format', () => {
  const run = (command: string[], env: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(command[0]!, command.slice(1), { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (chunk) => (out += chunk));
      child.once('error', reject);
      child.once('exit', () => resolve(out));
    });
  const script = "import { createLogger } from './src/infra/logger.ts'; createLogger().info('format probe', { site: 'wellhello', password: 'pw-pretty-1' });";

  it('is JSON lines when stdout is a pipe', async () => {
    const out = await run([process.execPath, '--import', 'tsx', '--eval', script], {});
    expect(JSON.parse(out.trim())).toMatchObject({ level: 'info', msg: 'format probe', site: 'wellhello', password: '[redacted]' });
  });

  it('is pino-pretty when stdout is a terminal, redacted the same way', async () => {
    // util-linux `script` runs the command on a pseudo-terminal.
    const out = await run(['script', '-qec', `${process.execPath} --import tsx --eval "${script}"`, '/dev/null'], { TERM: 'xterm' });
    expect(out).toMatch(/INFO.*format probe/);
    expect(out).toMatch(/site.*wellhello/);
    expect(out).not.toContain('{"level"');
    expect(out).not.toContain('pw-pretty-1');
  });
});

describe('the log field names', () => {
  /** The keys of the object literals passed to a logger's method (`debug`, `info`, `warn`, `error`, `child`), nested ones too. */
  function fieldNames(file: string, text: string): { name: string; at: string }[] {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const names: { name: string; at: string }[] = [];
    const keysOf = (node: ts.Node) => {
      if (!ts.isObjectLiteralExpression(node)) return;
      for (const property of node.properties) {
        if (property.name && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) {
          names.push({ name: property.name.text, at: `${file}:${source.getLineAndCharacterOfPosition(property.getStart()).line + 1}` });
        }
        if (ts.isPropertyAssignment(property)) keysOf(property.initializer);
      }
    };
    const visit = (node: ts.Node) => {
      const call = ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) ? node.expression : undefined;
      // A logger is named so (`logger`, `this.#logger`, `emulatorLog`): a tracer's `child` is not one.
      if (call && ['debug', 'info', 'warn', 'error', 'child'].includes(call.name.text) && /log/i.test(call.expression.getText(source))) {
        (node as ts.CallExpression).arguments.forEach(keysOf);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return names;
  }

  it('are camelCase in every line src/ writes', async () => {
    const files = (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts') && !f.startsWith(join('client', 'generated')));
    const all = (await Promise.all(files.map(async (f) => fieldNames(join('src', f), await readFile(join('src', f), 'utf8'))))).flat();
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter(({ name }) => !/^[a-z][A-Za-z0-9]*$/.test(name)).map(({ name, at }) => `${at} ${name}`)).toEqual([]);
  });
});
