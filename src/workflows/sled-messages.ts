/**
 * Messages of `sledReplace`: exported constants, so the client and the workflow share one typed
 * definition, and the client loads them without loading the workflow.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { HardwareReplaced, HardwareReport } from '../schemas/sled';

/**
 * A technician reports the new hardware is in: `{ serial, technician }`. Refused, saying why,
 * unless `technician` is one of the replacement's technicians and the saga takes reports (from
 * the power-off's approval until the new sled is verified). Returns the report as recorded.
 */
export const hardwareReplacedUpdate = defineUpdate<HardwareReport, [HardwareReplaced]>('hardwareReplaced');

/**
 * The same report as a signal, for callers that cannot wait for an answer: taken under the same
 * rules, and a refused one is only logged. Prefer {@link hardwareReplacedUpdate}: the client
 * and the CLI send the update, so a refusal reaches the technician.
 */
export const hardwareReplacedSignal = defineSignal<[HardwareReplaced]>('hardwareReplaced');
