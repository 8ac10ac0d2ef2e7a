/** One autocannon run against a URL: req/s, p50 and p99 latency, failures. */
import autocannon from 'autocannon';

export interface Request {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

export interface Measurement {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failures: number;
  /** CPU time of the target's process per request, µs: steadier than req/s on a shared machine. */
  cpuMicrosPerRequest?: number;
}

export async function measure(url: string, request: Request, connections: number, seconds: number): Promise<Measurement> {
  const result = await autocannon({ url, ...request, connections, duration: seconds, timeout: 10 });
  return {
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}
