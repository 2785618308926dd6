import { getMemoryCases } from './contract/get-memory.contract.js';
import { describeContract } from './contract/harness.js';

// The ring parity rule on getMemory (S5), over every implementation with a writer in this thread.

describeContract('S5: getMemory of any size', getMemoryCases);
