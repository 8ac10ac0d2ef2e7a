import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

/**
 * The docs a clone carries hold together: the README fits a newcomer's few
 * minutes, every relative link of README.md, ARCHITECTURE.md and docs/*.md
 * reaches a file of the repository (and its #anchor a heading there), and
 * nothing points outside the repository.
 */
const PAGES = ['README.md', 'ARCHITECTURE.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Hosts a page may link to: well-known specifications only. */
const SPEC_HOSTS = new Set(['spec.graphql.org', 'graphql.github.io', 'www.rfc-editor.org', 'datatracker.ietf.org']);

/** A page's text without fenced code blocks and with inline code blanked: code is not markup. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, 'code');
}

/** The targets of `[text](target)` links and `<a href>`s. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const html = [...text.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
  return [...inline, ...html];
}

/** GitHub's anchors of a page's headings (github-slugger's rule: lowercase, punctuation out, spaces to `-`, repeats numbered). */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading!
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

describe('README.md', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('fits in 15,000 bytes', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15_000);
  });

  it('gives the two commands of the quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
  });

  it("holds the block of setting names that the configuration generator fills, once", () => {
    expect(readme.split('<!-- settings -->').length).toBe(2);
    expect(readme.indexOf('<!-- settings -->')).toBeLessThan(readme.indexOf('<!-- /settings -->'));
  });
});

describe.each(PAGES)('%s', (page) => {
  const markdown = readFileSync(page, 'utf8');

  it('names nothing outside the repository (no ../shared/)', () => {
    expect(markdown).not.toMatch(/\.\.\/shared\b|\bshared\/(UPSTREAM|API|STYLE)\.md/);
  });

  it('links only to files of the repository, and to headings that exist', () => {
    const broken: string[] = [];
    for (const target of linksOf(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        const host = /^https?:\/\/([^/]+)/i.exec(target)?.[1];
        if (!host || !SPEC_HOSTS.has(host)) broken.push(`${target}: outside the repository`);
        continue;
      }
      const [path = '', anchor] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (file.startsWith(`..${sep}`) || file === '..' || relative('.', file).startsWith('..')) {
        broken.push(`${target}: outside the repository`);
        continue;
      }
      if (!existsSync(file)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor !== undefined && statSync(file).isFile() && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${file}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/**
 * Names in capitals that are not gateway settings: error codes and reasons,
 * the variables of the benchmarks and the soak, the contract probe, the tests and the
 * OpenTelemetry SDK.
 */
const NOT_SETTINGS = /^(BAD_USER_INPUT|RATE_LIMITED|LIMITS_UNAVAILABLE|UPSTREAM_UNAVAILABLE|UPSTREAM_TIMEOUT|GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED|INTROSPECTION_DISABLED|OPERATION_LIMIT|PERSISTED_QUERY_ONLY|PERSISTED_QUERY_NOT_FOUND|REQUEST_ENTITY_TOO_LARGE|UNSUPPORTED_MEDIA_TYPE|INTERNAL_SERVER_ERROR|PASSWORD_RECOVERY|ACCOUNT_PROBE_PASSWORD|DATING_API_KEY|CHROMIUM_PATH|(BENCH|STORM|SOAK|OTEL)_[A-Z0-9_]+)$/;

/** The generated reference and the upgrade notes may name settings that are gone; the other pages name only live ones. */
const NAMING_LIVE_SETTINGS = PAGES.filter((page) => !['docs/configuration.md', 'docs/upgrading.md'].includes(page));

describe.each(NAMING_LIVE_SETTINGS)('%s names settings', (page) => {
  it('only ones the gateway reads (src/config.ts)', () => {
    const names = [...readFileSync(page, 'utf8').matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((m) => m[1]!);
    const settings = new Set<string>(CONFIG_VARIABLES);
    expect([...new Set(names.filter((name) => !settings.has(name) && !NOT_SETTINGS.test(name)))]).toEqual([]);
  });
});

describe('the link checker itself', () => {
  it('finds links outside code, and GitHub anchors of headings', () => {
    const sample = '## Resuming with `after`\n## The `npm run bench` & co.\n## Resuming with `after`\n[a](docs/x.md#y) `[b](not-a-link)`\n```\n[c](in-code)\n```\n';
    expect(linksOf(sample)).toEqual(['docs/x.md#y']);
    expect([...anchorsOf(sample)]).toEqual(['resuming-with-after', 'the-npm-run-bench--co', 'resuming-with-after-1']);
  });
});
