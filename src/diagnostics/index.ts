export { channels } from './channels.js';
export { pendingOperations, type PendingOperation, type RingEndSnapshot, type RingSnapshot } from './pending-operations.js';
