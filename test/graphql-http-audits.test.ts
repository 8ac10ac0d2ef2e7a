import { serverAudits } from 'graphql-http';
import { beforeAll, describe, expect, it } from 'vitest';
import { startAccountEmulatorForTests } from './support/emulators.js';
import { startGateway, type TestGateway } from './support/gateway.js';

/**
 * The GraphQL-over-HTTP audit suite of graphql-http, in full, on both paths
 * of a request: the JSON lane (plain JSON POSTs, src/transport/json-lane.ts)
 * and yoga's own fetch layer (everything else; all of it with JSON_LANE=false).
 * The lane must answer every audit exactly as yoga does.
 */
describe.each([
  { path: 'with the JSON lane', JSON_LANE: 'true' },
  { path: "through yoga's fetch layer only", JSON_LANE: 'false' },
])('graphql-http server audits, $path', ({ JSON_LANE }) => {
  let gateway: TestGateway;
  let lanePosts = 0;
  beforeAll(async () => {
    const emulator = await startAccountEmulatorForTests();
    gateway = await startGateway({ ACCOUNT_API_URL: emulator.url, JSON_LANE });
  });

  // Each audit sends its own requests; the POSTs a lane takes are counted by the fetch below.
  const fetchFn: typeof fetch = async (input, init) => {
    const type = new Headers(init?.headers).get('content-type') ?? '';
    if (init?.method === 'POST' && (type === 'application/json' || type.startsWith('application/json;'))) lanePosts++;
    return fetch(input, init);
  };

  for (const audit of serverAudits({ url: () => gateway.url, fetchFn })) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      // "ok" only: no warning, no notice left.
      expect({ status: result.status, reason: 'reason' in result ? result.reason : undefined }).toEqual({ status: 'ok', reason: undefined });
    });
  }

  it(JSON_LANE === 'true' ? 'took the plain JSON POSTs through the lane' : 'took nothing through the lane', () => {
    expect(lanePosts).toBeGreaterThan(10);
    if (JSON_LANE === 'true') expect(gateway.gateway.jsonLane?.served).toBeGreaterThan(lanePosts / 2);
    else expect(gateway.gateway.jsonLane).toBeUndefined();
  });
});
