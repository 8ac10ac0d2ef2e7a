import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import type { GatewayContext } from './context.js';
import { dateScalar, dateTimeScalar } from './scalars.js';

/**
 * The one Pothos builder: context type, scalars, root types and the errors
 * plugin (the payload unions are `builder.errorUnion`s: a domain outcome a
 * mutation returns or throws is answered as its member type). Each domain
 * module under src/schema/ registers its own types and fields.
 */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({ plugins: [ErrorsPlugin], defaultFieldNullability: false });

builder.addScalarType('DateTime', dateTimeScalar);
builder.addScalarType('Date', dateScalar);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
