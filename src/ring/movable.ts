import { isSharedPipeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';
import { movedEnd, SharedRing } from './shared-ring.js';

/**
 * How a pipe end that can live in another thread travels in a scheduler's arguments: the ring's
 * ends implement it, the schedulers (a layer above) use it.
 */
export const kMove = Symbol.for('threadpipe.move');
/** Throws what moving would throw (completed, moved already, an operation in progress), without moving. */
export const kCheckMove = Symbol.for('threadpipe.checkMove');

/** What stays behind when an end moves: its handle for the message, and the controls the sender keeps. */
export interface MovedEnd {
  /** The structured-cloneable handle the receiving thread revives. */
  readonly handle: unknown;
  /** Marks the end exited if `threadId` holds it (or nobody took it yet); true when it did. */
  markPeerExited(threadId: number): boolean;
  /** Fails the end when it could not be delivered, so its far end does not wait forever. */
  abandon(error: Error): void;
  /**
   * Fails both sides of the end's ring with `error` if `threadId` holds the end (or nobody took it
   * yet) and it is not completed: a task blocked on it, in Atomics.wait too, wakes and throws `error`.
   */
  interrupt(threadId: number, error: Error): boolean;
  /** True once both ends of its ring completed: nothing left to watch. */
  readonly finished: boolean;
}

export interface Movable {
  [kMove](): MovedEnd;
  [kCheckMove](): void;
}

export function isMovable(value: unknown): value is Movable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Movable>)[kMove] === 'function' && typeof (value as Partial<Movable>)[kCheckMove] === 'function';
}

/**
 * Moves a set of ends all or nothing: every end is checked first, so one that cannot move (completed,
 * moved already, a read or flush in progress) throws its coded error, naming where it was found in
 * `argument`, before any end has moved; every end is then still usable where it was.
 */
export function moveAll(ends: ReadonlyMap<Movable, string>): Map<Movable, MovedEnd> {
  for (const [end, where] of ends) {
    try {
      end[kCheckMove]();
    } catch (error) {
      if (error instanceof Error && !('argument' in error)) Object.defineProperty(error, 'argument', { value: where, enumerable: true, configurable: true });
      throw error;
    }
  }
  const moved = new Map<Movable, MovedEnd>();
  for (const end of ends.keys()) moved.set(end, end[kMove]());
  return moved;
}

/**
 * Replaces every movable end found in plain objects and arrays (any depth) by its handle, collecting
 * what stays behind; all or nothing (see `moveAll`). An end found twice moves once, and both places
 * get the same handle. Other values are left for structured clone.
 */
export function moveEnds(value: unknown, moved: MovedEnd[], root = 'args'): unknown {
  const found = new Map<Movable, string>();
  const handles = new Set<SharedPipeHandle>();
  visitDeep(value, root, (item, where) => {
    if (isSharedPipeHandle(item)) {
      handles.add(item);
      return true;
    }
    if (!isMovable(item)) return false;
    if (!found.has(item)) found.set(item, where);
    return true;
  });
  // An end passed as a handle moved already; the run watches over it all the same (a dead thread,
  // an abort of a task blocked on it).
  for (const handle of handles) moved.push(movedEnd(new SharedRing(handle.buffer), handle.side, handle));
  if (found.size === 0) return value;
  const ends = moveAll(found);
  moved.push(...ends.values());
  return replaceDeep(value, isMovable, (end) => ends.get(end)!.handle);
}

/** Calls `visit` on every value in plain objects and arrays (any depth) with its path; true stops the descent there. */
function visitDeep(value: unknown, where: string, visit: (value: unknown, where: string) => boolean): void {
  if (visit(value, where)) return;
  if (Array.isArray(value)) value.forEach((item, i) => visitDeep(item, `${where}[${i}]`, visit));
  else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) visitDeep(item, `${where}.${key}`, visit);
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
