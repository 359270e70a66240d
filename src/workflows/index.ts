/**
 * The workflow bundle entry: every workflow and message definition the worker serves.
 */
export { diskCreate } from './disk-create';
export { instanceCreate } from './instance-create';
export { instanceDelete } from './instance-delete';
export { instanceMigrate } from './instance-migrate';
export { ping, pingAfter } from './ping';
export { retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from './saga';
