import type { DocumentNode, Token } from 'graphql';
import { LRUCache } from 'lru-cache';

/** What yoga's parse cache (`parserAndValidationCache`) asks of a cache. */
export interface ParseCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
}

/**
 * The caches of yoga's parser (`parserAndValidationCache`): parsed documents
 * and parse errors, each an lru-cache bounded by the estimated bytes of its
 * entries (`maxSize` + `sizeCalculation`), not by their number: ten 60 kB
 * documents weigh what 600 small ones do. Documents get `maxBytes`
 * (DOCUMENT_CACHE_MAX_BYTES), parse errors an eighth more; an entry larger
 * than its budget is not kept at all; 0 keeps nothing. The validation
 * results hang off the cached documents in a WeakMap (useValidationCache)
 * and go with them.
 */
export function documentCaches(maxBytes: number): { documentCache: ParseCache<DocumentNode>; errorCache: ParseCache<unknown> } {
  return {
    documentCache: byteBudgetCache<DocumentNode>(maxBytes, (document, source) => weighDocument(source, document)),
    errorCache: byteBudgetCache<unknown>(Math.floor(maxBytes / 8), (_error, source) => weighParseError(source)),
  };
}

/** The least recently used entries dropped first once `maxBytes` is reached; nothing kept for a budget of 0. */
function byteBudgetCache<V>(maxBytes: number, weigh: (value: V, key: string) => number): ParseCache<V> {
  if (maxBytes <= 0) return { get: () => undefined, set: () => {} };
  return new LRUCache<string, V & {}>({ maxSize: maxBytes, sizeCalculation: (value, key) => Math.max(1, weigh(value, key)) }) as ParseCache<V>;
}

/**
 * Heap a parsed document takes: its source (kept by the AST's locations;
 * 2 bytes a character at worst) and about 600 bytes per lexical token
 * (graphql-js keeps every token, linked, plus the nodes over them). Measured
 * with `node --expose-gc` on documents near REQUEST_MAX_BODY_BYTES: 1,900
 * fields take about 1 MB, 530 bytes a token; a comment-padded 62 kB
 * document about its source size. Tokens are counted along the token chain
 * of the document's location, once per cached document.
 */
export const DOCUMENT_BYTES_PER_TOKEN = 600;
export function weighDocument(source: string, document: DocumentNode): number {
  let tokens = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) tokens++;
  // Without locations (a parser told noLocation), the source length stands in for the tokens.
  if (!document.loc) tokens = source.length;
  return source.length * 2 + tokens * DOCUMENT_BYTES_PER_TOKEN;
}

/** A parse error keeps its message, a location and the source key. */
export const weighParseError = (source: string) => source.length * 2 + 2048;
