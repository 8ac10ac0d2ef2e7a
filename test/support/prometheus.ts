import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/**
 * The operations server's `/metrics`, read with a Prometheus text-format
 * parser (parse-prometheus-text-format, after client_python's parser): the
 * whole text must parse. That parser folds the label sets of a histogram
 * into one, so a histogram's per-label `_count` lines are read with it one
 * at a time, as counters.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

export class Scrape {
  readonly families: Map<string, MetricFamily>;

  constructor(readonly text: string) {
    this.families = new Map((parsePrometheusTextFormat(text) as MetricFamily[]).map((f) => [f.name, f]));
  }

  static async of(opsUrl: string): Promise<Scrape> {
    const res = await fetch(`${opsUrl}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return new Scrape(await res.text());
  }

  /** The value of a counter or gauge sample with exactly these labels (0 when absent). */
  value(name: string, labels: Record<string, string> = {}): number {
    const family = this.families.get(name);
    const sample = family?.metrics.find((m) => sameLabels(m.labels ?? {}, labels));
    return sample?.value === undefined ? 0 : Number(sample.value);
  }

  /** Observations of a histogram series with exactly these labels (0 when absent). */
  histogramCount(name: string, labels: Record<string, string>): number {
    for (const line of this.text.split('\n')) {
      if (!line.startsWith(`${name}_count`)) continue;
      const [family] = parsePrometheusTextFormat(`# TYPE ${name}_count counter\n${line}\n`) as MetricFamily[];
      const sample = family?.metrics[0];
      if (sample && sameLabels(sample.labels ?? {}, labels)) return Number(sample.value);
    }
    return 0;
  }

  /** Every label set of a histogram (from its `_count` lines). */
  histogramLabels(name: string): Record<string, string>[] {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith(`${name}_count`))
      .map((line) => (parsePrometheusTextFormat(`# TYPE ${name}_count counter\n${line}\n`) as MetricFamily[])[0]?.metrics[0]?.labels ?? {});
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
