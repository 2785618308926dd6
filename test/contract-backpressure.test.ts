import { backpressureCases } from './contract/backpressure.contract.js';
import { describeContract } from './contract/harness.js';

// Group D and the ring parity cases on when a flush may wait, over every implementation.

describeContract('D: backpressure', backpressureCases);
