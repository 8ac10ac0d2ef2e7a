/** The answer envelope of every Account API call (shared/UPSTREAM.md §1). */
export interface Envelope {
  state: number;
  data: unknown;
}
