/**
 * What `ssdFirmwareRollout` reports in its saga status (see ./report.ts): its progress, read by
 * `unwind show` and the console's saga page without loading the workflow.
 */
import { z } from 'zod';
import { FirmwareRolloutStatus } from './firmware';
import { defineReport } from './report';

/** The rollout's progress: phase and why, counts per state, how many waves, every SSD not done. */
export const FirmwareProgress = FirmwareRolloutStatus.pick({ phase: true, reason: true, total: true, counts: true, ssds: true }).extend({
  /** How many waves ran (the rollout's own status query lists them). */
  waves: z.int(),
});
/** See {@link FirmwareProgress}. */
export type FirmwareProgress = z.infer<typeof FirmwareProgress>;

/** The rollout's progress report, published as it plans and runs each wave. */
export const firmwareReport = defineReport('firmware', FirmwareProgress);
