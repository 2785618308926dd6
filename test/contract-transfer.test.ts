import { describeContract } from './contract/harness.js';
import { transferCases } from './contract/transfer.contract.js';

// Group T, write(data, { transfer: true }), over every implementation with a real writer.

describeContract('T: handing a buffer over', transferCases);
