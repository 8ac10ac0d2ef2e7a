// Beside @graphql-yoga/plugin-persisted-operations (an onParams hook, HTTP only): one manifest also serves graphql-ws (documentFor), whose operations go through getEnveloped, not onParams.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'graphql-yoga';
import { PersistedQueryNotFound, PersistedQueryOnly } from '../domain/errors.js';

/**
 * Trusted documents (TRUSTED_DOCUMENTS): the gateway runs only the documents
 * of a manifest that `npm run codegen` writes from `schema/operations/`
 * (client preset, `persisted-documents.json`: `sha256:<hex>` → document).
 * A request names its document by hash, in either of the two usual forms:
 *
 * - `extensions: { persistedQuery: { version: 1, sha256Hash: "<hex>" } }`
 *   (Apollo's form, also over graphql-ws and in GET's `extensions` parameter);
 * - `documentId: "sha256:<hex>"` (GraphQL over HTTP, persisted documents
 *   appendix), in a POST body or as a GET parameter.
 *
 * A request with a `query` is refused with PERSISTED_QUERY_ONLY, an unknown
 * hash with PERSISTED_QUERY_NOT_FOUND.
 */

/** The manifest `npm run codegen` writes next to the typed documents. */
export const BUNDLED_MANIFEST = new URL('../client/generated/persisted-documents.json', import.meta.url);

/** What a request carries: yoga's params, or a graphql-ws `subscribe` payload. */
export interface DocumentRequest {
  query?: string | null | undefined;
  extensions?: Record<string, unknown> | null | undefined;
  documentId?: unknown;
}

const SHA256 = /^(?:sha256:)?([0-9a-f]{64})$/;

export class TrustedDocuments {
  private constructor(private readonly byHash: ReadonlyMap<string, string>) {}

  /**
   * Reads a manifest and checks every entry: each key must be `sha256:` and
   * the hash of its document, so a hand-edited manifest cannot smuggle one in.
   */
  static load(manifest: URL | string = BUNDLED_MANIFEST): TrustedDocuments {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new TypeError('The trusted documents manifest must be a JSON object of hash → document');
    }
    const byHash = new Map<string, string>();
    for (const [key, document] of Object.entries(parsed)) {
      const hash = SHA256.exec(key)?.[1];
      if (typeof document !== 'string' || !hash || sha256(document) !== hash) {
        throw new TypeError(`The trusted documents manifest has a bad entry: ${key.slice(0, 80)}`);
      }
      byHash.set(hash, document);
    }
    return new TrustedDocuments(byHash);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The names of the operations of the manifest (the first-party apps' operations). */
  operationNames(): Set<string> {
    const names = new Set<string>();
    for (const document of this.byHash.values()) {
      for (const match of document.matchAll(/\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g)) names.add(match[1]!);
    }
    return names;
  }

  /** The hash a request names, if any (see the module comment for the forms). */
  static hashOf(request: DocumentRequest, url?: string): string | undefined {
    const persisted = request.extensions?.['persistedQuery'];
    if (persisted !== null && typeof persisted === 'object' && 'sha256Hash' in persisted) {
      return typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : '';
    }
    if (typeof request.documentId === 'string') return request.documentId;
    const fromUrl = url ? new URL(url).searchParams.get('documentId') : null;
    return fromUrl ?? undefined;
  }

  /** The document a request runs, or the RequestError that refuses it. */
  documentFor(request: DocumentRequest, url?: string): string {
    if (request.query) throw new PersistedQueryOnly();
    const hash = TrustedDocuments.hashOf(request, url);
    if (hash === undefined) throw new PersistedQueryOnly();
    const document = this.byHash.get(SHA256.exec(hash)?.[1] ?? '');
    if (document === undefined) throw new PersistedQueryNotFound();
    return document;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The yoga plugin: every HTTP request (POST, GET and SSE subscriptions) must
 * name a manifest document; its text replaces the request's `query`.
 * graphql-ws subscriptions call `documentFor` in their `onSubscribe`.
 *
 * @param documents The runnable documents: `TrustedDocuments.load()` reads
 *   and checks a manifest (default: BUNDLED_MANIFEST, the one `npm run codegen` writes).
 */
export function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  return {
    onParams({ params, request, setParams }) {
      const query = documents.documentFor(params as DocumentRequest, request.url);
      // Without `documentId`, which yoga's own check of the params refuses.
      setParams({ query, operationName: params.operationName, variables: params.variables, extensions: params.extensions });
    },
  };
}
