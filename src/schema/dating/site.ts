import type { GatewayContext } from '../context.js';
import type { DatingSite } from '../../domain/dating.js';
import { builder } from '../builder.js';

export const DatingSiteType = builder.objectRef<DatingSite>('DatingSite').implement({
  description: 'A configured dating site users can be created on. Its API key never leaves the gateway.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass it as `site` to createDatingUser and joinDating.' }),
    name: t.exposeString('name'),
  }),
});

/** The site of an outcome; an id no longer configured (a replayed outcome) still resolves, by its id. */
export const siteOf = (siteId: string, ctx: GatewayContext): DatingSite => ctx.dating.site(siteId) ?? { id: siteId, name: siteId };

builder.queryField('datingSites', (t) =>
  t.field({
    type: [DatingSiteType],
    description: 'The configured dating sites (id and name).',
    resolve: (_root, _args, ctx) => ctx.dating.sites(),
  }),
);
