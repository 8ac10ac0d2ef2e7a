/**
 * What the bench sends: one fixed session and three queries. The peers serve
 * the same fields over the same upstream calls, so the numbers compare.
 */
export const SESSION = 'bench-session-token-0123456789abcdef';

export interface Workload {
  name: string;
  /** Account API calls behind one request. */
  upstreamCalls: number;
  query: string;
  /** Checks one answer of a target: the right data, no errors. */
  check(body: { data?: any; errors?: unknown }): boolean;
}

export const WORKLOADS: Workload[] = [
  {
    name: 'products',
    upstreamCalls: 1,
    query: '{ products { id title description policy icon infoUrl state } }',
    check: (b) => !b.errors && b.data?.products?.length === 3 && b.data.products[0].state === 'ACTIVATED',
  },
  {
    name: 'dashboard',
    upstreamCalls: 3,
    query: `{ viewer { id email phone emailVerified phoneVerified name surname language activeProductIds createdAt
      settings { firstName lastName avatar sex news language birthday datingModel consents { socioDemographic webActivity socialProfiles personalityProfiling biometrics } }
      products { id title state infoUrl } } }`,
    check: (b) => !b.errors && b.data?.viewer?.settings?.sex === 'CISGENDER_WOMAN' && b.data.viewer.products.length === 3,
  },
  {
    name: '__typename',
    upstreamCalls: 0,
    query: '{ __typename }',
    check: (b) => !b.errors && b.data?.__typename === 'Query',
  },
];
