/**
 * The one contract between the runner and the page: messages, events, status words, close
 * codes and size formatting. Types and constants only (and pure formatting), no imports from
 * the rest of the runner, so the site can import it without pulling runner code in.
 */
export * from './check.js';
export * from './lesson-status.js';
export * from './size.js';
export * from './terminal.js';
export * from './class.js';
export * from './inspect.js';
export * from './exercise-folder.js';
export * from './auth.js';
export * from './sandbox-health.js';
