/**
 * What every unwind worker shares: the task queue and where the workflow bundle's entry is.
 */
import { join } from 'node:path';

/** The task queue unwind's workers poll and its client starts workflows on. */
export const TASK_QUEUE = process.env.UNWIND_TASK_QUEUE ?? 'unwind';

/** The workflow bundle entry, bundled by the worker (and by the determinism-fence test). */
export const workflowsPath = join(__dirname, '..', 'workflows', 'index.ts');
