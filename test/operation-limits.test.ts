import { describe, expect, it } from 'vitest';
import { useStack } from './support/gateway.js';

describe('operation limits', () => {
  const t = useStack({ OPERATION_MAX_DEPTH: '3', OPERATION_MAX_ALIASES: '3', OPERATION_MAX_MUTATIONS: '2' });

  const refused = (result: { errors?: { extensions?: Record<string, unknown> }[]; data?: unknown }) => {
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'OPERATION_LIMIT' });
    expect(result.data).toBeUndefined();
  };

  it('refuses more aliases than allowed, before any upstream call', async () => {
    await t.stack.account.resetCalls();
    const guesses = Array.from({ length: 4 }, (_, i) => `g${i}: login(input: { login: "a@example.com", password: "guess-${i}" }) { __typename }`).join('\n');
    refused(await t.stack.gql(`mutation { ${guesses} }`));
    expect(await t.stack.account.calls()).toEqual({});
  });

  it('counts aliased __typename too, also through fragments', async () => {
    refused(await t.stack.gql(`{ a: __typename b: __typename c: __typename d: __typename }`));
    refused(await t.stack.gql(`{ a: __typename ...F } fragment F on Query { b: __typename c: __typename d: __typename }`));
    const within = await t.stack.gql(`{ a: __typename b: __typename c: __typename }`);
    expect(within).toMatchObject({ data: { a: 'Query', b: 'Query', c: 'Query' } });
    expect(within.errors).toBeUndefined();
  });

  it('refuses more mutations than allowed, also through fragments', async () => {
    const result = await t.stack.gql(
      `mutation { ...Two logout { __typename } }
       fragment Two on Mutation { a: logout { __typename } b: logout { __typename } }`,
      {},
      { token: t.user.token },
    );
    refused(result);
  });

  it('refuses nesting deeper than allowed, but not introspection', async () => {
    refused(await t.stack.gql(`{ viewer { settings { consents { ...C } } } } fragment C on Consents { socioDemographic }`, {}, { token: t.user.token }));
    const within = await t.stack.gql(`{ viewer { settings { sex } } }`, {}, { token: t.user.token });
    expect(within.errors).toBeUndefined();
    const introspection = await t.stack.gql(`{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`);
    expect(introspection.errors).toBeUndefined();
  });

  it('a refused document is refused alike every time it comes again (validation results are cached by document)', async () => {
    for (const document of ['{ a: __typename b: __typename c: __typename d: __typename }', '{ noSuchField }']) {
      const answers = [];
      for (let i = 0; i < 3; i++) {
        const { status, errors, data } = await t.stack.gql(document);
        answers.push({ status, data, errors: errors?.map(({ message, extensions }) => ({ message, code: extensions?.code, reason: extensions?.reason })) });
      }
      expect(answers[0]!.errors?.length, document).toBeGreaterThan(0);
      expect(answers[1], document).toEqual(answers[0]);
      expect(answers[2], document).toEqual(answers[0]);
    }
  });

  it('a document the schema refuses keeps yoga\'s GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED (docs/api.md error model)', async () => {
    const parse = await t.stack.gql(`{ viewer { `);
    const validation = await t.stack.gql(`{ noSuchField }`);
    for (const [result, code] of [[parse, 'GRAPHQL_PARSE_FAILED'], [validation, 'GRAPHQL_VALIDATION_FAILED']] as const) {
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code });
      expect(result.data).toBeUndefined();
    }
  });
});
