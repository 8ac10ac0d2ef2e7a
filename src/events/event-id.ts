/**
 * The public id of an `accountEvents` event, and the cursor it stands for.
 *
 * Every event a subscriber receives sits at a position of its user's log on
 * the bus (bus.ts): `<ms>-<seq>`, a Redis Streams id (or the memory bus's
 * equivalent), increasing per user. The log has an epoch, a random name that
 * changes when the log's store loses its data (a Redis without persistence
 * restarted, a memory bus in a new process). The public id holds the three:
 * unique across users (the user id is part of it), ordered per user (the
 * position), and a cursor for `accountEvents(after:)` on any instance. It is
 * base64url text: clients treat it as opaque.
 */
export interface Cursor {
  epoch: string;
  /** `<ms>-<seq>` in the user's log. */
  position: string;
}

const POSITION = /^\d{1,16}-\d{1,20}$/;

export function encodeEventId(userId: string, cursor: Cursor): string {
  return Buffer.from(`${cursor.epoch}.${cursor.position}.${userId}`, 'utf8').toString('base64url');
}

/** The cursor of an id of `userId`'s events; null when the text is not one (another user's, malformed). */
export function decodeEventId(id: string, userId: string): Cursor | null {
  if (id.length > 400 || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const first = text.indexOf('.');
  const second = text.indexOf('.', first + 1);
  if (first <= 0 || second < 0) return null;
  const epoch = text.slice(0, first);
  const position = text.slice(first + 1, second);
  if (!POSITION.test(position) || text.slice(second + 1) !== userId) return null;
  return { epoch, position };
}

/** Compares two positions of one log: negative when `a` comes first. */
export function comparePositions(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs - bMs || aSeq - bSeq;
}
