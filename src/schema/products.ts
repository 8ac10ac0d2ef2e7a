import { z } from 'zod';
import { requireSession, type GatewayContext } from '../context.js';
import { publishAccountEvent } from '../events/publish.js';
import { UpstreamUnavailable } from '../errors.js';
import type { Deadline } from '../infra/deadline.js';
import { Outcome, type ProductNotFound, ValidationError } from '../outcomes.js';
import { PRODUCT_STATES, type Product } from '../upstream/account/wire.js';
import { builder } from './builder.js';
import { ProductNotFoundType, ValidationErrorType } from './errors.js';
import { id, validate } from './validation.js';

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
  }),
});

const ProductDeactivatedType = builder.objectType(ProductDeactivated, {
  name: 'DeactivateProductSuccess',
  description: 'The product is inactive. Legally, the user terminated its agreement.',
  isTypeOf: (v) => v instanceof ProductDeactivated,
  fields: (t) => ({
    product: t.field({ type: ProductType, resolve: (change, _args, ctx) => productAfter(change, ctx) }),
    activeProductIds: t.exposeIDList('activeProductIds'),
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

const ActivateProductPayload = builder.unionType('ActivateProductPayload', {
  types: [ProductActivatedType, ProductNotFoundType, ValidationErrorType],
});
const DeactivateProductPayload = builder.unionType('DeactivateProductPayload', {
  types: [ProductDeactivatedType, ProductNotFoundType, ValidationErrorType],
});

/** Validates, calls the Account API, refreshes the loaders and publishes ProductsUpdated. */
async function changeProduct<R extends { modules: string[] }>(
  ctx: GatewayContext,
  input: unknown,
  call: (session: string, productId: string, deadline: Deadline) => Promise<R | ProductNotFound>,
): Promise<{ productId: string; result: R } | ProductNotFound | ValidationError> {
  const session = requireSession(ctx);
  const parsed = validate(productInput, input);
  if (parsed instanceof ValidationError) return parsed;
  const result = await call(session, parsed.productId, ctx.deadline);
  if (result instanceof Outcome) return result;
  ctx.loaders.products.clear(session);
  ctx.loaders.user.clear(session);
  await publishAccountEvent(ctx, session, { type: 'ProductsUpdated', activeProductIds: result.modules });
  return { productId: parsed.productId, result };
}

builder.mutationField('activateProduct', (t) =>
  t.field({
    type: ActivateProductPayload,
    description: 'Activates a product (user/products/activate): legally the user\'s consent to its agreement. Idempotent. Needs a session.',
    args: { input: t.arg({ type: ProductInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const change = await changeProduct(ctx, input, ctx.account.activateProduct);
      return 'result' in change ? new ProductActivated(change.productId, change.result.modules, null) : change;
    },
  }),
);

builder.mutationField('deactivateProduct', (t) =>
  t.field({
    type: DeactivateProductPayload,
    description: 'Deactivates a product (user/products/deactivate): legally a termination of its agreement. Idempotent. Needs a session.',
    args: { input: t.arg({ type: ProductInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const change = await changeProduct(ctx, input, ctx.account.deactivateProduct);
      return 'result' in change ? new ProductDeactivated(change.productId, change.result.modules, change.result.subscriptionCancelUrl) : change;
    },
  }),
);
