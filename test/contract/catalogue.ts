import { backpressureCases } from './backpressure.contract.js';
import { cancellationCases } from './cancellation.contract.js';
import { completionCases } from './completion.contract.js';
import { consumedExaminedCases } from './consumed-examined.contract.js';
import { getMemoryCases } from './get-memory.contract.js';
import { applies, type ContractCase } from './harness.js';
import { forwardingPipeImplementation, implementations, type Implementation } from './implementations.js';
import { misuseCases } from './misuse.contract.js';
import { transferCases } from './transfer.contract.js';
import { readAtLeastCases } from './read-at-least.contract.js';
import { visibilityCases } from './visibility.contract.js';

// Every contract case with the implementations it runs on, as test/CASES.md lists them.

export interface CatalogueGroup {
  readonly cases: readonly ContractCase[];
  readonly over: readonly Implementation[];
}

export const catalogue: readonly CatalogueGroup[] = [
  { cases: visibilityCases, over: implementations },
  { cases: consumedExaminedCases, over: implementations },
  { cases: misuseCases, over: implementations },
  { cases: backpressureCases, over: implementations },
  { cases: cancellationCases, over: implementations },
  { cases: completionCases, over: implementations },
  { cases: readAtLeastCases, over: [...implementations, forwardingPipeImplementation] },
  { cases: getMemoryCases, over: implementations },
  { cases: transferCases, over: implementations },
];

/** The implementations in the order of CASES.md's columns. */
export const columns: readonly Implementation[] = [...implementations, forwardingPipeImplementation];

/** Case id -> the names of the implementations at least one case of that id runs on. */
export function runsOn(): Map<string, Set<string>> {
  const byId = new Map<string, Set<string>>();
  for (const group of catalogue) {
    for (const c of group.cases) {
      const names = byId.get(c.id) ?? new Set<string>();
      for (const impl of group.over) if (applies(impl, c)) names.add(impl.name);
      byId.set(c.id, names);
    }
  }
  return byId;
}
