/**
 * How a pipe end that can live in another thread travels in a scheduler's arguments. Scheduling
 * knows only this protocol; the shared ring implements it (ring depends on scheduling, not back).
 */
export const kMove = Symbol.for('threadpipe.move');

/** What stays behind when an end moves: its handle for the message, and the controls the sender keeps. */
export interface MovedEnd {
  /** The structured-cloneable handle the receiving thread revives. */
  readonly handle: unknown;
  /** Marks the end exited if `threadId` holds it (or nobody took it yet); true when it did. */
  markPeerExited(threadId: number): boolean;
  /** Fails the end when it could not be delivered, so its far end does not wait forever. */
  abandon(error: Error): void;
  /** True once both ends of its ring completed: nothing left to watch. */
  readonly finished: boolean;
}

export interface Movable {
  [kMove](): MovedEnd;
}

export function isMovable(value: unknown): value is Movable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Movable>)[kMove] === 'function';
}

/**
 * Replaces every movable end found in plain objects and arrays (any depth) by its handle, collecting
 * what stays behind. Other values are left for structured clone.
 */
export function moveEnds(value: unknown, moved: MovedEnd[]): unknown {
  return replaceDeep(value, isMovable, (movable) => {
    const end = movable[kMove]();
    moved.push(end);
    return end.handle;
  });
}

/**
 * Rebuilds plain objects and arrays (any depth) with every value `match` accepts replaced by
 * `replace(value)`; anything else is kept as it is. The walk both directions of a move share.
 */
export function replaceDeep<T>(value: unknown, match: (value: unknown) => value is T, replace: (value: T) => unknown): unknown {
  if (match(value)) return replace(value);
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, match, replace));
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = replaceDeep(item, match, replace);
    return copy;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
