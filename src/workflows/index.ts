/**
 * The workflow bundle entry: every workflow and message definition the worker serves.
 */
export { ping } from './ping';
