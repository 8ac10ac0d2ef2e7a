import { beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/gateway.js';
import { signUp } from './support/users.js';

/**
 * The JSON lane (src/transport/json-lane.ts) answers what yoga's own path
 * answers, byte for byte: each request is sent twice to one gateway, with a
 * Content-Length (the lane takes it) and chunked (no Content-Length: yoga's
 * path), and the status, media type and body must be the same (the request
 * id, different for every request, aside). What graphql-http's audits do not
 * reach: errors of execution, of variables, masked errors, a refusal thrown
 * by an onParams hook (trusted documents), a body that is not one params
 * object, a subscription (yoga's SSE stream, or its 406), and the
 * GraphQL-over-HTTP media type.
 */
describe.each([
  { mode: 'raw queries', TRUSTED_DOCUMENTS: 'false' },
  { mode: 'TRUSTED_DOCUMENTS', TRUSTED_DOCUMENTS: 'true' },
])('the JSON lane answers as yoga does ($mode)', ({ TRUSTED_DOCUMENTS }) => {
  let gateway: Stack;
  let token: string;
  beforeAll(async () => {
    gateway = await startStack({ JSON_LANE: 'true', TRUSTED_DOCUMENTS });
    ({ token } = await signUp(gateway.account));
  });

  /** Status, media type, Accept (of a 406) and body of one request, its own request id replaced. */
  const answer = async (body: string, accept: string | undefined, signedIn: boolean, chunked: boolean) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(accept && { accept }), ...(signedIn && { authorization: `Bearer ${token}` }) };
    const init: RequestInit & { duplex?: 'half' } = chunked
      ? { method: 'POST', headers, body: new Blob([body]).stream(), duplex: 'half' }
      : { method: 'POST', headers, body };
    const res = await fetch(gateway.url, init);
    const id = res.headers.get('x-request-id') ?? '';
    // A stream (a subscription, for an Accept of none or */*): its first chunk, then the client leaves.
    const stream = res.headers.get('content-type')?.startsWith('text/event-stream');
    const text = stream ? new TextDecoder().decode((await res.body!.getReader().read()).value) : await res.text();
    if (stream) await res.body!.cancel().catch(() => {});
    return { status: res.status, type: res.headers.get('content-type'), accept: res.headers.get('accept'), body: text.replaceAll(id, '<request id>') };
  };

  const bodies: Record<string, string> = {
    'a query': JSON.stringify({ query: '{ __typename datingSites { id } }' }),
    'a syntax error': JSON.stringify({ query: '{ __typename' }),
    'a validation error': JSON.stringify({ query: '{ noSuchField }' }),
    'an operation name the document lacks': JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }),
    'variables that do not coerce': JSON.stringify({ query: 'mutation M($input: ProductInput!) { activateProduct(input: $input) { __typename } }', variables: { input: { productId: 42 } } }),
    'an error of execution (no session)': JSON.stringify({ query: '{ products { id } }' }),
    'a subscription (signed in)': JSON.stringify({ query: 'subscription { accountEvents { __typename } }' }),
    'a query (signed in)': JSON.stringify({ query: '{ viewer { id } products { id state } }' }),
    'an unknown persisted query': JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }),
    'an unexpected parameter': JSON.stringify({ query: '{ __typename }', id: 1 }),
    'a batch': JSON.stringify([{ query: '{ __typename }' }]),
    'not JSON': '{"query": ',
  };

  for (const [what, body] of Object.entries(bodies)) {
    it.each([undefined, 'application/graphql-response+json', 'application/json'])(`${what} (Accept: %s)`, async (accept) => {
      const taken = gateway.gateway.jsonLane!.served;
      const signedIn = what.endsWith('(signed in)');
      const lane = await answer(body, accept, signedIn, false);
      expect(gateway.gateway.jsonLane!.served).toBe(taken + 1);
      const yoga = await answer(body, accept, signedIn, true);
      expect(gateway.gateway.jsonLane!.served).toBe(taken + 1);
      expect(lane).toEqual(yoga);
    });
  }
});
