import WebSocket from 'ws';
import { GatewayClient, type GatewayClientOptions } from '../../src/client/client.js';
import { rememberSecret, rememberSecretsIn } from './stack.js';

/**
 * The typed client of src/client against a test gateway. Every secret it
 * sends or receives (passwords and codes in variables, session tokens) is
 * remembered for the harness's leak check, like `gql` does.
 */
export function typedClient(url: string, options: Partial<GatewayClientOptions> = {}): GatewayClient {
  const remembering: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string') rememberSecretsIn((JSON.parse(init.body) as { variables?: unknown }).variables);
    const response = await fetch(input, init);
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { data?: unknown } | undefined;
    rememberSecretsIn(body?.data);
    return response;
  };
  return new GatewayClient({
    url,
    fetch: remembering,
    webSocketImpl: WebSocket,
    ...options,
    onSessionChange: (token) => {
      rememberSecret(token);
      options.onSessionChange?.(token);
    },
  });
}

/**
 * Waits until the gateway holds more than `before` push sockets of the user on
 * the Account API emulator: a subscription of theirs is live from then on.
 */
export async function pushSocketsAbove(emulatorUrl: string, userId: string, before = 0, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const sockets = (await (await fetch(`${emulatorUrl}/_emulator/sockets`)).json()) as Record<string, number>;
    if ((sockets[userId] ?? 0) > before) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for a push socket of the user`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The user's push sockets on the Account API emulator now. */
export async function pushSockets(emulatorUrl: string, userId: string): Promise<number> {
  return ((await (await fetch(`${emulatorUrl}/_emulator/sockets`)).json()) as Record<string, number>)[userId] ?? 0;
}
