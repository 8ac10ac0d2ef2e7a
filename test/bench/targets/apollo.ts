/** Apollo Server 5 (standalone, node:http) with @apollo/datasource-rest: the Apollo way of the same fields. */
import { RESTDataSource } from '@apollo/datasource-rest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { serveTarget } from './serve.js';
import { dataOf, resolvers, sessionOf, typeDefs, type PeerContext } from './peer-schema.js';

class AccountApi extends RESTDataSource {
  constructor(override baseURL: string) {
    super();
  }
  async read(path: string, session: string) {
    return dataOf(await this.post(path, { body: {}, headers: { authorization: `Bearer ${session}` } }), path);
  }
}

await serveTarget(async (upstream) => {
  const server = new ApolloServer<PeerContext>({ typeDefs, resolvers, introspection: false });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const api = new AccountApi(`${upstream}/`);
      return { session: sessionOf(req.headers.authorization), call: (path, session) => api.read(path, session) };
    },
  });
  return { url: new URL('/graphql', url).href, close: () => server.stop() };
});
