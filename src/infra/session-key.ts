import { hash } from 'node:crypto';

/**
 * A stand-in for a session token wherever one must be told apart from
 * another without holding or sending the token itself: bus messages (Redis),
 * caches, per-connection state. SHA-256 of a random token cannot be turned
 * back into it.
 */
export function sessionKey(session: string): string {
  // One-shot hash (Node >= 20.12): no Hash object per call; this runs for every `viewer`.
  return hash('sha256', session, 'base64url').slice(0, 32);
}
