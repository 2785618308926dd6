import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columns, runsOn } from './contract/catalogue.js';

// test/CASES.md lists every contract case id and the implementations it runs on; this keeps the list
// true when a case or a capability changes.

const doc = readFileSync(new URL('./CASES.md', import.meta.url), 'utf8');

/** The contract table's rows: id -> the marks in the implementation columns. */
function documented(): Map<string, boolean[]> {
  const section = doc.slice(doc.indexOf('## The contract'), doc.indexOf('## Beside the contract'));
  const rows = new Map<string, boolean[]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length !== 2 + columns.length || cells[0] === 'id' || cells[0]!.startsWith('---')) continue;
    rows.set(cells[0]!, cells.slice(2).map((cell) => cell === '✓'));
  }
  return rows;
}

describe('test/CASES.md', () => {
  it('lists every contract case id once, with exactly the implementations it runs on', () => {
    const rows = documented();
    const actual = runsOn();
    const expected = [...actual].map(([id, names]) => `${id}: ${columns.map((impl) => (names.has(impl.name) ? '✓' : '·')).join(' ')}`);
    const listed = [...rows].map(([id, marks]) => `${id}: ${marks.map((m) => (m ? '✓' : '·')).join(' ')}`);
    expect(listed.sort()).toEqual(expected.sort());
  });
});
