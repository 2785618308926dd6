import { isArrayBuffer, isArrayBufferView } from 'node:util/types';
import * as workerThreads from 'node:worker_threads';
import { MessagePort, type TransferListItem } from 'node:worker_threads';
import { InvalidArgumentTypeError, validateTransferable, validateTransferList } from '../errors/index.js';

/*
 * A value sent across the thread boundary with a transfer list: the listed objects are moved (the
 * sender's copy is detached), everything else is cloned. The wrapper speaks piscina's Transferable
 * interface (two registered symbols), so a task returning piscina's own `move()` works the same.
 */
const kTransferable = Symbol.for('Piscina.transferable');
const kValue = Symbol.for('Piscina.valueOf');

/** What `move()` returns: `value`, to be sent with `transferList` moved rather than copied. */
export interface Moved<T> {
  readonly value: T;
  readonly transferList: readonly TransferListItem[];
}

class MovedValue<T> implements Moved<T> {
  readonly value: T;
  readonly transferList: readonly TransferListItem[];

  constructor(value: T, transferList: readonly TransferListItem[]) {
    this.value = value;
    this.transferList = transferList;
  }

  get [kTransferable](): readonly TransferListItem[] {
    return this.transferList;
  }

  get [kValue](): T {
    return this.value;
  }
}

/**
 * Marks a task's result (or a run's arguments) to be moved, not copied, like `postMessage(value,
 * transferList)`. `move(arrayBuffer)`, `move(typedArray)` (its whole `.buffer` moves) and
 * `move(port)` need no list; `move(value, [buffers...])` moves the listed objects found in any
 * value. Only the outermost value is looked at: return the result of `move()` itself, not an object
 * holding it. A Buffer from Node's shared pool (a small `Buffer.from()` or `Buffer.allocUnsafe()`)
 * cannot move: Node copies it instead.
 */
export function move<T>(value: T, transferList?: readonly TransferListItem[]): Moved<T> {
  if (transferList !== undefined) return new MovedValue(value, [...validateTransferList('transferList', transferList)]);
  if (isArrayBuffer(value) || value instanceof MessagePort) return new MovedValue(value, [validateTransferable('value', value)]);
  if (isArrayBufferView(value)) return new MovedValue(value, [validateTransferable('value.buffer', value.buffer)]);
  throw new InvalidArgumentTypeError('value', value, 'an ArrayBuffer, a typed array or a MessagePort when no transferList is given');
}

/** Node 21 and later have it; Node 20 marks objects untransferable but cannot be asked. */
const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (object: unknown) => boolean }).isMarkedAsUntransferable;

/**
 * The list to hand to postMessage. An object Node marks untransferable (the slab of its Buffer pool)
 * is copied by Node 20 when listed, and refused by later versions: it is left off, so it is copied
 * on every version.
 */
export function sendable(transferList: TransferListItem[]): TransferListItem[] {
  return isMarkedAsUntransferable === undefined ? transferList : transferList.filter((item) => !isMarkedAsUntransferable(item));
}

/** The value to send and what moves with it: a value from `move()` (or piscina's) is unwrapped and its list checked. */
export function unwrapMoved(value: unknown, name: string): { value: unknown; transferList: TransferListItem[] } {
  if (typeof value !== 'object' || value === null || !(kTransferable in value) || !(kValue in value)) return { value, transferList: [] };
  const wrapper = value as { [kTransferable]: unknown; [kValue]: unknown };
  const listed = wrapper[kTransferable];
  // piscina's interface allows a single object as well as a list.
  const transferList = validateTransferList(`${name}.transferList`, Array.isArray(listed) ? listed : [listed]);
  return { value: wrapper[kValue], transferList: sendable(transferList) };
}
