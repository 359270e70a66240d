/**
 * The saga engine's message definitions live in src/schemas/messages.ts, workflow-free, so the
 * client sends them without loading workflow code; the engine registers its handlers for them.
 */
export { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from '../../schemas/messages';
