/**
 * What `sledReplace` reports in its status, typed once for the workflow that writes it and for
 * the CLI and console that read it (see ./report.ts). No workflow code: readers load only this.
 */
import { z } from 'zod';
import { defineReport } from './report';
import { EvacuationProgress, HardwareReport, HardwareStatus } from './sled';

/** How the evacuation goes: instances moved, moving and failed (see {@link EvacuationProgress}). */
export const evacuationReport = defineReport('evacuation', EvacuationProgress);

/** How moving the evacuated instances back goes, when the replacement rebalances. */
export const rebalanceReport = defineReport('rebalance', EvacuationProgress);

/**
 * The technician's side: who is waited for since when, and every report taken (see
 * {@link HardwareStatus}). Replacements started before every report was kept wrote
 * `{ waitingFor, since }` while waiting, then `{ replacedBy, serial, at }`: those fields read
 * as empty or absent.
 */
export const hardwareReport = defineReport(
  'hardware',
  HardwareStatus.extend({
    waitingFor: z.array(z.string()).default([]),
    since: z.iso.datetime().optional(),
    reports: z.array(HardwareReport).default([]),
  }),
);

/** The step that waits for the technician: the `hardware` report's wait is open while it runs. */
export const AWAIT_HARDWARE_STEP = 'await-hardware';
