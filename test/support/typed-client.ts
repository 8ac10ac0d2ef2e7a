import WebSocket from 'ws';
import { GatewayClient, type GatewayClientOptions } from '../../src/client/client.js';
import { rememberSecret, rememberSecretsIn } from './harness.js';

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
