import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Scrape } from './support/prometheus.js';
import { useStack } from './support/gateway.js';

/**
 * docs/deploy.md and the Grafana dashboard stay true: every metric a
 * dashboard panel or an alert rule names is served. (The configuration
 * reference and .env.example: test/configuration-docs.test.ts.)
 */

/** Metric names in PromQL text: the gateway's own and Node's process metrics. */
function metricNames(promql: string): Set<string> {
  return new Set(promql.match(/\b(?:gateway|process|nodejs)_[a-z0-9_]+\b/g) ?? []);
}

/** The family a sample name belongs to (`x_bucket` → `x` for a histogram). */
function familyOf(name: string, scrape: Scrape): string {
  if (scrape.families.has(name)) return name;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return scrape.families.get(base)?.type === 'HISTOGRAM' ? base : name;
}

describe('docs/deploy.md', () => {
  it("starts the gateway with npm start's own command (its node flags included)", () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toMatch(/^exec node .*dist\/main\.js$/);
    expect(readFileSync('docs/deploy.md', 'utf8')).toContain(`In production start \`${start.replace(/^exec /, '')}\` directly`);
  });
});

describe('metrics named by the dashboard and the alert rules', () => {
  const t = useStack();

  it('are all in /metrics', async () => {
    await t.stack.gql('query Viewer { viewer { id } }', {}, { token: t.user.token });
    const scrape = await Scrape.of(t.stack.opsUrl);
    const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as { panels: { type: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((target) => target.expr);
    const named = metricNames(exprs.join('\n'));
    expect(named.size).toBeGreaterThanOrEqual(12);
    expect([...named].filter((name) => !scrape.families.has(familyOf(name, scrape)))).toEqual([]);

    const deployGuide = readFileSync('docs/deploy.md', 'utf8');
    const rules = metricNames(deployGuide);
    expect(rules.size).toBeGreaterThanOrEqual(4);
    expect([...rules].filter((name) => !scrape.families.has(familyOf(name, scrape)))).toEqual([]);
  });
});
