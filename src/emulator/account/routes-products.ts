import { ok, type Route } from './api.js';
import { findActiveProduct, PRODUCTS, productView } from './catalogue.js';
import { reqString } from './params.js';
import { modulesOf } from './views.js';

/**
 * `user/products/get`, `…/activate`, `…/deactivate` (shared/UPSTREAM.md §1
 * #13–15, §3). Both changes are idempotent; `products.updated` is pushed only
 * when the modules actually changed.
 */

const getProducts: Route = {
  path: 'user/products/get',
  session: 'required',
  handle: ({ caller }) => ok(PRODUCTS.map((product) => productView(product, caller!.user))),
};

const activate: Route = {
  path: 'user/products/activate',
  session: 'required',
  handle({ state, caller, body }) {
    const { user } = caller!;
    const product = findActiveProduct(reqString(body, 'product_id'));
    if (!product) return 404;
    if (!user.modules.has(product.id)) {
      user.modules.add(product.id);
      state.push.emit(user.id, 'products.updated', { modules: modulesOf(user) });
    }
    return ok({ modules: modulesOf(user) });
  },
};

const deactivate: Route = {
  path: 'user/products/deactivate',
  session: 'required',
  handle({ state, caller, body }) {
    const { user } = caller!;
    const product = findActiveProduct(reqString(body, 'product_id'));
    if (!product) return 404;
    if (user.modules.delete(product.id)) {
      state.push.emit(user.id, 'products.updated', { modules: modulesOf(user) });
    }
    const data: Record<string, unknown> = { modules: modulesOf(user) };
    // A paid product always answers its cancellation link, even when already inactive (chosen).
    if (product.subscriptionCancel !== null) data.subscription_cancel = product.subscriptionCancel;
    return ok(data);
  },
};

export const productRoutes: readonly Route[] = [getProducts, activate, deactivate];
