/**
 * What every unwind worker shares: the task queue and where the workflow bundle's entry is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The task queue unwind's workers poll and its client starts workflows on. */
export const TASK_QUEUE = process.env.UNWIND_TASK_QUEUE ?? 'unwind';

const workflowsDir = join(__dirname, '..', 'workflows');

/**
 * The workflow bundle entry, bundled by the worker (and by the determinism-fence test): the
 * TypeScript source when unwind runs from source (tsx, vitest), the compiled `index.js` when it
 * runs from `dist/` (the container image).
 */
export const workflowsPath = existsSync(join(workflowsDir, 'index.ts')) ? join(workflowsDir, 'index.ts') : join(workflowsDir, 'index.js');
