/**
 * The peers' schema: the gateway's `products` and `viewer { … settings
 * products }` fields with the same types, names and mapping from the Account
 * API's wire objects, as a developer would write them for Apollo Server or
 * Mercurius. Each peer brings its own upstream client as `call`.
 */
export const typeDefs = /* GraphQL */ `
  enum Language { EN AR BE BG DE EL ES FR HI HY IT IW JA KA KK KO MN PT RU TR UK VI ZH }
  enum Sex { NOT_SET UNDEFINED CISGENDER_WOMAN CISGENDER_MAN TRANSGENDER_WOMAN TRANSGENDER_MAN INTERSEX NON_BINARY AGENDER ANDROGYNE }
  enum ProductState { ACTIVATED DEACTIVATED DISABLED }
  type Consents { socioDemographic: Boolean! webActivity: Boolean! socialProfiles: Boolean! personalityProfiling: Boolean! biometrics: Boolean! }
  type Settings {
    firstName: String lastName: String avatar: String sex: Sex! news: Boolean! consents: Consents!
    language: Language birthday: String datingModel: String email: String phone: String
  }
  type Product { id: ID! title: String! description: String! policy: String! icon: String! infoUrl: String state: ProductState! }
  type User {
    id: ID! email: String phone: String emailVerified: Boolean! phoneVerified: Boolean! name: String surname: String
    language: Language activeProductIds: [ID!]! createdAt: String! settings: Settings! products: [Product!]!
  }
  type Query { viewer: User products: [Product!]! }
`;

/** One Account API call: the `data` of a state-200 envelope. */
export type AccountCall = (path: string, session: string) => Promise<any>;
export interface PeerContext {
  session: string | null;
  call: AccountCall;
}

const SEXES = ['NOT_SET', 'UNDEFINED', 'CISGENDER_WOMAN', 'CISGENDER_MAN', 'TRANSGENDER_WOMAN', 'TRANSGENDER_MAN', 'INTERSEX', 'NON_BINARY', 'AGENDER', 'ANDROGYNE'];

export function sessionOf(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

/** The envelope's data on state 200; any other answer fails the field. */
export function dataOf(json: any, path: string): any {
  if (json?.state !== 200) throw new Error(`Account API ${path} answered state ${json?.state}`);
  return json.data;
}

const need = (ctx: PeerContext) => {
  if (!ctx.session) throw new Error('Sign in first');
  return ctx.session;
};
const products = (ctx: PeerContext) =>
  ctx.call('user/products/get', need(ctx)).then((list: any[]) =>
    list.map((p) => ({ id: p.id, title: p.title, description: p.description, policy: p.policy, icon: p.icon, infoUrl: p.info ?? null, state: p.state.toUpperCase() })),
  );

export const resolvers = {
  Query: {
    products: (_: unknown, __: unknown, ctx: PeerContext) => products(ctx),
    viewer: async (_: unknown, __: unknown, ctx: PeerContext) => {
      if (!ctx.session) return null;
      const u = await ctx.call('user/get', ctx.session);
      return {
        id: u.id, email: u.email ?? null, phone: u.phone ?? null, emailVerified: u.email_verified, phoneVerified: u.phone_verified,
        name: u.name ?? null, surname: u.surname ?? null, language: u.lang ? u.lang.toUpperCase() : null,
        activeProductIds: u.modules, createdAt: new Date(u.created_at).toISOString(),
      };
    },
  },
  User: {
    settings: async (_: unknown, __: unknown, ctx: PeerContext) => {
      const s = await ctx.call('user/settings/get', need(ctx));
      return {
        firstName: s.first_name ?? null, lastName: s.last_name ?? null, avatar: s.avatar ?? null, sex: SEXES[(s.sex ?? -1) + 1] ?? 'NOT_SET',
        news: s.news ?? false,
        consents: {
          socioDemographic: s.restriction_1 ?? false, webActivity: s.restriction_2 ?? false, socialProfiles: s.restriction_3 ?? false,
          personalityProfiling: s.restriction_4 ?? false, biometrics: s.restriction_5 ?? false,
        },
        language: s.lang ? s.lang.toUpperCase() : null,
        birthday: s.birthday == null ? null : new Date(s.birthday * 1000).toISOString().slice(0, 10),
        datingModel: s.dating?.model ?? null, email: s.email ?? null, phone: s.phone ?? null,
      };
    },
    products: (_: unknown, __: unknown, ctx: PeerContext) => products(ctx),
  },
};
