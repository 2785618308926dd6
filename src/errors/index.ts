// The catalogue and argument validation. Cross-thread serialization (./serialization.js) is internal:
// only the ring and the thread boundary import it.
export * from './catalogue.js';
export * from './validation.js';
