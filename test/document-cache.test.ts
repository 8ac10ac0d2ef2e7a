import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_BYTES_PER_TOKEN, documentCaches, weighDocument } from '../src/infra/byte-budget-cache.js';

/** The parse caches yoga is given (DOCUMENT_CACHE_MAX_BYTES): bounded by estimated bytes, least recently used dropped first. */
describe('document caches (DOCUMENT_CACHE_MAX_BYTES)', () => {
  const source = (n: number) => `{ a${n}: __typename }`;
  const weight = weighDocument(source(0), parse(source(0)));

  it('weighs a document by its source and tokens', () => {
    // `{ a0 : __typename }`: 5 tokens, plus <SOF> and <EOF>.
    expect(weight).toBe(source(0).length * 2 + 7 * DOCUMENT_BYTES_PER_TOKEN);
  });

  it('keeps documents within the byte budget and drops the least recently used first', () => {
    const { documentCache } = documentCaches(weight * 3);
    for (const n of [1, 2, 3]) documentCache.set(source(n), parse(source(n)));
    expect(documentCache.get(source(1))).toBeDefined(); // 1 is now the most recently used
    documentCache.set(source(4), parse(source(4)));
    expect([1, 2, 3, 4].map((n) => documentCache.get(source(n)) !== undefined)).toEqual([true, false, true, true]);
  });

  it('does not keep a document larger than the whole budget', () => {
    const { documentCache } = documentCaches(weight - 1);
    documentCache.set(source(1), parse(source(1)));
    expect(documentCache.get(source(1))).toBeUndefined();
  });

  it('keeps parse errors within an eighth of the budget, and nothing at all with a budget of 0', () => {
    const { errorCache } = documentCaches(8 * 3000);
    errorCache.set('{', new Error('Syntax Error'));
    expect(errorCache.get('{')).toBeInstanceOf(Error);
    const none = documentCaches(0);
    none.documentCache.set(source(1), parse(source(1)));
    none.errorCache.set('{', new Error('Syntax Error'));
    expect([none.documentCache.get(source(1)), none.errorCache.get('{')]).toEqual([undefined, undefined]);
  });
});
