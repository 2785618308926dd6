export { channels } from './channels.js';
export { pendingOperations, type PendingOperation } from './pending-operations.js';
