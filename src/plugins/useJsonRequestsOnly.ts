// Hand-written: yoga has no option to switch off its form, text/plain and application/graphql parsers, and yoga's CSRF prevention plugin lets such bodies through when they carry its header, where this API takes JSON only.
import type { Plugin } from 'graphql-yoga';

/**
 * Only `POST` with `Content-Type: application/json` (and `GET`, for
 * queries: yoga refuses a mutation over GET with 405) reaches GraphQL.
 * Forms (`application/x-www-form-urlencoded`, `multipart/form-data`),
 * `text/plain` and `application/graphql` are what a foreign page can POST
 * cross-site without a CORS preflight, and the API has no uploads: they get
 * 415 with a typed error and run nothing.
 */
export function useJsonRequestsOnly(): Plugin {
  return {
    onRequestParse({ request, endResponse, fetchAPI }) {
      const refusal = refusalOfNonJson(request, fetchAPI);
      if (refusal) endResponse(refusal);
    },
  };
}

/** The 415 for a POST that is not `application/json`, or undefined; also for the routes yoga does not parse (useGraphqlSse). */
export function refusalOfNonJson(request: Request, fetchAPI: { Response: typeof Response }): Response | undefined {
  if (request.method !== 'POST') return undefined;
  const mediaType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return undefined;
  const body = {
    errors: [
      {
        message: 'Send GraphQL requests as POST with Content-Type: application/json (or GET, for queries).',
        extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
      },
    ],
  };
  return new fetchAPI.Response(JSON.stringify(body), { status: 415, headers: { 'content-type': 'application/json; charset=utf-8' } });
}
