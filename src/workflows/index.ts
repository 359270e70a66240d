/**
 * The workflow bundle entry: every workflow and message definition the worker serves.
 */
export { ping, pingAfter } from './ping';
