import type { DocumentNode, Token } from 'graphql';

/**
 * A least-recently-used cache bounded by the estimated bytes of its entries,
 * not by their number: ten 60 kB documents weigh what 600 small ones do.
 * Yoga's parse cache takes it for parsed documents and parse errors
 * (DOCUMENT_CACHE_MAX_BYTES); the validation results hang off the cached
 * documents in a WeakMap and go with them.
 */
export class ByteBudgetCache<V> {
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(
    /** Total estimated bytes kept; an entry larger than this is not kept at all. */
    readonly maxBytes: number,
    /** Estimated bytes of one entry, its key included. */
    private readonly weigh: (key: string, value: V) => number,
  ) {}

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const bytes = this.weigh(key, value);
    if (bytes > this.maxBytes) return;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
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
