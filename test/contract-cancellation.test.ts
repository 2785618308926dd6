import { cancellationCases } from './contract/cancellation.contract.js';
import { describeContract } from './contract/harness.js';

// Group E and the ring parity cases on canceled and aborted writes, over every implementation.

describeContract('E: cancellation', cancellationCases);
