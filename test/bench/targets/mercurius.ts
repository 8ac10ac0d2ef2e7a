/** Mercurius 16 on Fastify 5 with graphql-jit (`jit: 1`) and an undici Pool: the fast Node peer. */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { Pool } from 'undici';
import { serveTarget } from './serve.js';
import { dataOf, resolvers, sessionOf, typeDefs, type AccountCall } from './peer-schema.js';

await serveTarget(async (upstream) => {
  const pool = new Pool(upstream, { connections: 32 });
  const call: AccountCall = async (path, session) => {
    const res = await pool.request({
      method: 'POST',
      path: `/${path}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
      body: '{}',
    });
    return dataOf(await res.body.json(), path);
  };
  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers as any,
    jit: 1,
    context: (req) => ({ session: sessionOf(req.headers.authorization), call }),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `${address}/graphql`,
    close: async () => {
      await app.close();
      await pool.close();
    },
  };
});
