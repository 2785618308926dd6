import { AdvanceOutOfRangeError } from '../errors/index.js';

/**
 * The order checks every reader's `advanceTo` shares, on chain offsets of the last result (-1 for a
 * position that says nothing, such as the start of an empty buffer): examined never before consumed,
 * never before what was examined earlier.
 */
export function checkAdvanceOrder(consumedOffset: number, examinedOffset: number, previouslyExamined: number): void {
  if (consumedOffset >= 0 && examinedOffset >= 0 && examinedOffset < consumedOffset) {
    throw new AdvanceOutOfRangeError('examined-before-consumed');
  }
  if (examinedOffset >= 0 && previouslyExamined >= 0 && examinedOffset < previouslyExamined) {
    throw new AdvanceOutOfRangeError('examined-moved-back');
  }
}

/** The error for a position that is not inside the last read buffer. */
export function positionOutsideLastRead(position: 'consumed' | 'examined'): AdvanceOutOfRangeError {
  return new AdvanceOutOfRangeError('outside-buffer', position);
}
