import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anchorOf, renderAll, renderReadme } from '../scripts/docs.js';
import { CONFIG_VARIABLES, loadConfig, RETIRED, SETTING_GROUPS, settingDocs, unsetUpstreams } from '../src/config.js';

/**
 * docs/configuration.md, .env.example and the README's list of settings are
 * rendered from the declarations in src/config/ by `npm run docs`: each must
 * be what the declarations render today, and say true things.
 */

describe('npm run docs', () => {
  const rendered = renderAll();

  it.each(Object.keys(rendered))('has rendered %s from the declarations as they are now (run `npm run docs`)', (path) => {
    expect(readFileSync(path, 'utf8')).toBe(rendered[path]);
  });

  it("fills the README's settings block with every setting, each linked to its section, and leaves the rest alone", () => {
    const readme = '# Title\n\nBefore.\n\n<!-- settings -->\nold list\n<!-- /settings -->\n\nAfter.\n';
    const filled = renderReadme(readme);
    expect(filled.startsWith('# Title\n\nBefore.\n\n<!-- settings -->\n')).toBe(true);
    expect(filled.endsWith('\n<!-- /settings -->\n\nAfter.\n')).toBe(true);
    expect(filled).not.toContain('old list');
    const block = filled.slice(filled.indexOf('<!-- settings -->'), filled.indexOf('<!-- /settings -->'));
    expect(block.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(SETTING_GROUPS.length);
    for (const name of CONFIG_VARIABLES) expect(block).toContain(`[\`${name}\`](docs/configuration.md#${name.toLowerCase()})`);
    expect(renderReadme('# No block\n')).toBe('# No block\n');
  });
});

describe('docs/configuration.md', () => {
  const page = readFileSync('docs/configuration.md', 'utf8');
  const headings = new Set([...page.matchAll(/^#{2,3} (.+)$/gm)].map((m) => anchorOf(m[1]!)));

  it('has a section for every setting, and every link inside the page lands on one', () => {
    expect(CONFIG_VARIABLES.filter((name) => !headings.has(name.toLowerCase()))).toEqual([]);
    const links = [...page.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(SETTING_GROUPS.length);
    expect(links.filter((anchor) => !headings.has(anchor))).toEqual([]);
  });

  it('lists each retired variable, none of which is still read', () => {
    for (const name of Object.keys(RETIRED)) expect(page).toContain(`| \`${name}\` |`);
    expect(Object.keys(RETIRED).filter((name) => CONFIG_VARIABLES.includes(name))).toEqual([]);
  });
});

describe('the declarations', () => {
  it('put every setting in one group, with a one-line summary', () => {
    const grouped = SETTING_GROUPS.flatMap((group) => Object.keys(group.settings));
    expect([...grouped].sort()).toEqual([...CONFIG_VARIABLES].sort());
    for (const group of SETTING_GROUPS) {
      for (const [name, schema] of Object.entries(group.settings)) {
        expect(settingDocs.get(schema)?.summary, name).toMatch(/^[^\n]{10,200}$/);
      }
    }
  });
});

describe('.env.example', () => {
  const lines = readFileSync('.env.example', 'utf8')
    .split('\n')
    .map((line) => /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m) => m !== null);
  const set = Object.fromEntries(lines.filter((m) => !m[1]).map((m) => [m[2]!, m[3]!]));

  it('names every variable once', () => {
    expect(lines.map((m) => m[2]!).sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('sets a production configuration that starts (no emulators needed), and its commented lines are the defaults', () => {
    const config = loadConfig(set);
    expect(config.NODE_ENV).toBe('production');
    expect(unsetUpstreams(config)).toEqual([]);
    const defaults = loadConfig({}) as Record<string, unknown>;
    const shown = Object.fromEntries(lines.filter((m) => m[1]).map((m) => [m[2]!, m[3]!]));
    expect(Object.keys(shown).length).toBeGreaterThan(30);
    expect(loadConfig(shown)).toMatchObject(Object.fromEntries(Object.keys(shown).map((name) => [name, defaults[name]])));
  });
});
