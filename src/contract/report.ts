/**
 * What a contract probe found: one line per check, whether the assumption it
 * covers holds. Details name paths, states and field names only, never a
 * value that was sent or received (passwords, tokens, keys, the site's texts).
 */
export type Verdict = 'holds' | 'fails' | 'skipped';

export interface CheckResult {
  id: string;
  /** The assumption, with where shared/UPSTREAM.md states it. */
  covers: string;
  verdict: Verdict;
  /** Why it fails or was skipped; empty when it holds. */
  detail: string;
}

export interface Check {
  id: string;
  covers: string;
}

export const holds = (check: Check): CheckResult => ({ ...check, verdict: 'holds', detail: '' });
export const fails = (check: Check, detail: string): CheckResult => ({ ...check, verdict: 'fails', detail });
export const skipped = (check: Check, detail: string): CheckResult => ({ ...check, verdict: 'skipped', detail });

/** `holds` when every problem list is empty, else `fails` naming them. */
export function verdictOf(check: Check, problems: readonly string[]): CheckResult {
  return problems.length === 0 ? holds(check) : fails(check, problems.join('; '));
}

const LABEL: Record<Verdict, string> = { holds: 'HOLDS', fails: 'FAILS', skipped: 'SKIP ' };

/** The report as text: a title, one line per check (and its detail), a summary. */
export function formatReport(title: string, results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.id.length));
  const lines = [title];
  for (const r of results) {
    lines.push(`  ${LABEL[r.verdict]}  ${r.id.padEnd(width)}  ${r.covers}`);
    if (r.detail) lines.push(`  ${' '.repeat(5)}  ${' '.repeat(width)}  ${r.verdict === 'fails' ? '→' : '·'} ${r.detail}`);
  }
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  lines.push(`  ${count('holds')} hold, ${count('fails')} fail, ${count('skipped')} skipped`);
  return lines.join('\n');
}

/** The URL as printed: origin and path, never credentials or a query. */
export function printableUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
