/**
 * Messages of `sledReplace`: exported constants, so the client and the workflow share one typed
 * definition, and the client loads them without loading the workflow.
 */
import { defineSignal } from '@temporalio/workflow';
import type { HardwareReplaced } from '../schemas/sled';

// The update is defined workflow-free, so the client sends it without the workflow SDK.
export { hardwareReplacedUpdate } from '../schemas/messages';

/**
 * The same report as a signal, for callers that cannot wait for an answer: taken under the same
 * rules, and a refused one is only logged. Prefer {@link hardwareReplacedUpdate}: the client
 * and the CLI send the update, so a refusal reaches the technician.
 */
export const hardwareReplacedSignal = defineSignal<[HardwareReplaced]>('hardwareReplaced');
