import SchemaBuilder from '@pothos/core';
import type { GatewayContext } from './context.js';
import { dateScalar, dateTimeScalar } from './scalars.js';

/**
 * The one Pothos builder: context type, scalars and root types, nothing else.
 * Each domain module under src/schema/ registers its own types and fields.
 */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({ defaultFieldNullability: false });

builder.addScalarType('DateTime', dateTimeScalar);
builder.addScalarType('Date', dateScalar);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
