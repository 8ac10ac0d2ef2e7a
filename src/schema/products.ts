import { z } from 'zod';
import { requireSession, type GatewayContext } from './context.js';
import { UpstreamUnavailable } from '../domain/errors.js';
import { PRODUCT_STATES, type Product } from '../domain/account.js';
import { ProductNotFound, ValidationError } from '../domain/outcomes.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { changedUser, UserType } from './user.js';
import { id } from './validation.js';

const ProductStateEnum = builder.enumType('ProductState', {
  values: {
    ACTIVATED: { description: 'The user has agreed to the product and uses it.' },
    DEACTIVATED: { description: 'Available; the user has not activated it (or terminated it).' },
    DISABLED: { description: 'Not available to this user; it cannot be activated.' },
  },
});

export const ProductType = builder.objectRef<Product>('Product').implement({
  description: 'A product of the Account API and the signed-in user\'s state of it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    policy: t.exposeString('policy', { description: 'The product agreement the user consents to by activating it.' }),
    icon: t.exposeString('icon'),
    infoUrl: t.exposeString('infoUrl', { nullable: true, description: 'URL of an information page.' }),
    state: t.field({ type: ProductStateEnum, resolve: (p) => p.state satisfies (typeof PRODUCT_STATES)[number] }),
  }),
});

builder.objectField(UserType, 'products', (t) =>
  t.field({
    type: [ProductType],
    description: 'The product catalogue with this user\'s state of each. Fetched once per request.',
    resolve: (_user, _args, ctx) => ctx.loaders.products.load(requireSession(ctx)),
  }),
);

builder.queryField('products', (t) =>
  t.field({
    type: [ProductType],
    description: 'The product catalogue with the signed-in user\'s state of each. Needs a session.',
    resolve: (_root, _args, ctx) => ctx.loaders.products.load(requireSession(ctx)),
  }),
);

/** The result of activate or deactivate. */
class ProductChange {
  constructor(
    readonly productId: string,
    readonly activeProductIds: string[],
    readonly subscriptionCancelUrl: string | null,
  ) {}
}
class ProductActivated extends ProductChange {}
class ProductDeactivated extends ProductChange {}

/** The product as it is after the change, read fresh (the mutation cleared the loader). */
async function productAfter(change: ProductChange, ctx: GatewayContext): Promise<Product> {
  const products = await ctx.loaders.products.load(requireSession(ctx));
  const product = products.find((p) => p.id === change.productId);
  // The catalogue no longer lists what the API just changed: an answer off contract.
  if (!product) throw new UpstreamUnavailable('Account API', 'a changed product is missing from the catalogue');
  return product;
}

const ProductActivatedType = builder.objectType(ProductActivated, {
  name: 'ActivateProductSuccess',
  description: 'The product is active. Legally, the user consented to its agreement.',
  isTypeOf: (v) => v instanceof ProductActivated,
  fields: (t) => ({
    product: t.field({ type: ProductType, resolve: (change, _args, ctx) => productAfter(change, ctx) }),
    activeProductIds: t.exposeIDList('activeProductIds'),
    user: t.field({ type: UserType, description: 'The user after the change.', resolve: (_change, _args, ctx) => changedUser(ctx) }),
  }),
});

const ProductDeactivatedType = builder.objectType(ProductDeactivated, {
  name: 'DeactivateProductSuccess',
  description: 'The product is inactive. Legally, the user terminated its agreement.',
  isTypeOf: (v) => v instanceof ProductDeactivated,
  fields: (t) => ({
    product: t.field({ type: ProductType, resolve: (change, _args, ctx) => productAfter(change, ctx) }),
    activeProductIds: t.exposeIDList('activeProductIds'),
    user: t.field({ type: UserType, description: 'The user after the change.', resolve: (_change, _args, ctx) => changedUser(ctx) }),
    subscriptionCancelUrl: t.exposeString('subscriptionCancelUrl', {
      nullable: true,
      description: 'Where to cancel a paid subscription of the product, when it has one.',
    }),
  }),
});

const ProductInput = builder.inputType('ProductInput', {
  fields: (t) => ({ productId: t.id({ required: true }) }),
});
const productInput = z.object({ productId: id });

const ActivateProductPayload = builder.errorUnion('ActivateProductPayload', {
  types: [ProductActivatedType, ProductNotFound, ValidationError],
});
const DeactivateProductPayload = builder.errorUnion('DeactivateProductPayload', {
  types: [ProductDeactivatedType, ProductNotFound, ValidationError],
});

/** After a change: the loaders are refreshed (other devices get the Account API's ProductsUpdated echo). */
function productsChanged(ctx: GatewayContext, session: string): void {
  ctx.loaders.products.clear(session);
  ctx.loaders.user.clear(session);
}

builder.mutationField('activateProduct', (t) =>
  t.field({
    type: ActivateProductPayload,
    description: 'Activates a product (user/products/activate): legally the user\'s consent to its agreement. Idempotent. Needs a session.',
    args: { input: t.arg({ type: ProductInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: productInput,
        call: ({ productId }) => ctx.account.activateProduct(session, productId, ctx.deadline),
        success: async ({ modules }, { productId }) => {
          productsChanged(ctx, session);
          return new ProductActivated(productId, modules, null);
        },
      });
    },
  }),
);

builder.mutationField('deactivateProduct', (t) =>
  t.field({
    type: DeactivateProductPayload,
    description: 'Deactivates a product (user/products/deactivate): legally a termination of its agreement. Idempotent. Needs a session.',
    args: { input: t.arg({ type: ProductInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: productInput,
        call: ({ productId }) => ctx.account.deactivateProduct(session, productId, ctx.deadline),
        success: async ({ modules, subscriptionCancelUrl }, { productId }) => {
          productsChanged(ctx, session);
          return new ProductDeactivated(productId, modules, subscriptionCancelUrl);
        },
      });
    },
  }),
);
