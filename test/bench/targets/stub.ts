/** The upstream stub itself as a target: the limit of the setup (its `user/products/get`). */
import { serveTarget } from './serve.js';
import { startUpstreamStub } from '../upstream-stub.js';

await serveTarget(async () => {
  const stub = await startUpstreamStub();
  return { url: stub.url, close: () => stub.close() };
});
