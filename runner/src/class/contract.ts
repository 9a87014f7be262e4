// The class server's wire contract lives with the rest of the runner–page contract.
export * from '../contract/class.js';
