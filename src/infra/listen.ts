/**
 * A port the process could not bind, named by the variables that configure
 * it: `npm start` prints the message as one line and exits 1, with no stack
 * trace (a second gateway on the same machine, a port below 1024 without the
 * privilege).
 */
export class PortUnavailableError extends Error {
  override readonly name = 'PortUnavailableError';
}

/** The environment variables behind one listening socket, e.g. `{ port: 'METRICS_PORT', host: 'METRICS_HOST' }`. */
export interface ListenSetting {
  port: string;
  host: string;
}

/**
 * Runs `bind` (which listens on `port` at `host`); a failure to bind becomes
 * a PortUnavailableError naming `setting`'s variables, any other error stays
 * as it is.
 */
export async function bindingPort<T>(setting: ListenSetting, port: number, host: string, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const change = `set ${setting.port} to a free port (0 picks any)`;
    if (code === 'EADDRINUSE') throw new PortUnavailableError(`${setting.port}=${port}: ${at} is already in use (is another gateway running?); ${change}`);
    if (code === 'EACCES') throw new PortUnavailableError(`${setting.port}=${port}: listening on ${at} is not permitted (ports below 1024 need privileges); ${change}`);
    if (code === 'EADDRNOTAVAIL') throw new PortUnavailableError(`${setting.host}=${host}: no interface of this machine has that address; set ${setting.host} to one it has (127.0.0.1, 0.0.0.0)`);
    throw error;
  }
}
