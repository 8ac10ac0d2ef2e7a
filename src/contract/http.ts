/** One call of a probe: never throws, never follows a redirect, bounded by a timeout. */
export type Reply =
  | { ok: true; status: number; headers: Headers; /** The parsed body; undefined when it is not JSON. */ json: unknown }
  | { ok: false; problem: string };

export async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Reply> {
  try {
    const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ok: true, status: res.status, headers: res.headers, json };
  } catch (error) {
    return { ok: false, problem: (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'not reachable' };
  }
}
