import { AdvanceOutOfRangeError } from '../errors.js';

/**
 * The order checks every reader's `advanceTo` shares, on chain offsets of the last result (-1 for a
 * position that says nothing, such as the start of an empty buffer): examined never before consumed,
 * never before what was examined earlier.
 */
export function checkAdvanceOrder(consumedOffset: number, examinedOffset: number, previouslyExamined: number): void {
  if (consumedOffset >= 0 && examinedOffset >= 0 && examinedOffset < consumedOffset) {
    throw new AdvanceOutOfRangeError('The examined position must be greater than or equal to the consumed position.');
  }
  if (examinedOffset >= 0 && previouslyExamined >= 0 && examinedOffset < previouslyExamined) {
    throw new AdvanceOutOfRangeError('The examined position cannot be less than the previously examined position.');
  }
}

/** The error for a position that is not inside the last read buffer. */
export function positionOutsideLastRead(name: string): AdvanceOutOfRangeError {
  return new AdvanceOutOfRangeError(`The ${name} position is outside the last read buffer: the reader has already advanced past it, or it belongs to another buffer.`);
}
