// The three forms of a framing reader (one step per item, one step per read, a callback per item)
// seen as one: an async iterable of the items, so one case can run over each form.
import { ReadOnlySequence, type PipeReader } from '../dist/src/index.js';

export const framingForms = ['for await', 'batches', 'callback'] as const;
export type FramingForm = (typeof framingForms)[number];

/** The forms of one framing reader, options applied. */
export interface Framing {
  each(reader: PipeReader): AsyncIterable<ReadOnlySequence>;
  batches(reader: PipeReader): AsyncIterable<readonly ReadOnlySequence[]>;
  forEach(reader: PipeReader, onItem: (item: ReadOnlySequence) => boolean | void): Promise<void>;
}

/**
 * The items of `reader` through `form`, in order, a failure after the items before it. The batch and
 * callback forms are replayed item by item; the callback form's items are copied while valid.
 */
export function itemsOf(form: FramingForm, framing: Framing, reader: PipeReader): AsyncIterable<ReadOnlySequence> {
  switch (form) {
    case 'for await':
      return framing.each(reader);
    case 'batches':
      return flatten(framing.batches(reader));
    case 'callback':
      return replay(framing, reader);
  }
}

async function* flatten(batches: AsyncIterable<readonly ReadOnlySequence[]>): AsyncGenerator<ReadOnlySequence> {
  for await (const batch of batches) yield* batch;
}

async function* replay(framing: Framing, reader: PipeReader): AsyncGenerator<ReadOnlySequence> {
  const copies: Uint8Array[] = [];
  let failure: unknown;
  let failed = false;
  try {
    await framing.forEach(reader, (item) => {
      copies.push(item.toUint8Array());
    });
  } catch (error) {
    failed = true;
    failure = error;
  }
  for (const copy of copies) yield ReadOnlySequence.from(copy);
  if (failed) throw failure;
}

/** Copies of every item `form` yields (an item is only valid until the next step). */
export async function collect(form: FramingForm, framing: Framing, reader: PipeReader): Promise<Uint8Array[]> {
  const items: Uint8Array[] = [];
  for await (const item of itemsOf(form, framing, reader)) items.push(item.toUint8Array());
  return items;
}
