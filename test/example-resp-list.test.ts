import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListValue } from '../dist/examples/resp-server/list-value.js';

// The RESP server's list deque against a plain array doing the same operations (unshift, push,
// splice from the front, splice from the back): same elements, same order, same pops.
describe('resp-server list deque', () => {
  it('matches an array for any sequence of pushes and pops at both ends', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('front' as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('back' as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('popFront' as const), count: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('popBack' as const), count: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const list = new ListValue();
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'front') {
            list.pushFront(Uint8Array.of(o.value));
            model.unshift(o.value);
          } else if (o.kind === 'back') {
            list.pushBack(Uint8Array.of(o.value));
            model.push(o.value);
          } else if (o.kind === 'popFront') {
            expect(list.popFront(o.count).map((v) => v[0])).toEqual(model.splice(0, o.count));
          } else {
            expect(list.popBack(o.count).map((v) => v[0])).toEqual(model.splice(Math.max(0, model.length - o.count)).reverse());
          }
          expect(list.length).toBe(model.length);
        }
        for (let i = 0; i < model.length; i++) expect(list.at(i)[0]).toBe(model[i]);
      }),
      { seed: 12, numRuns: 200 },
    );
  });
});
