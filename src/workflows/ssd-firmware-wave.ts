/**
 * `ssdFirmwareWave`: one wave of a rollout — a child `ssdFirmwareUpdate` per SSD, all at once
 * (the rollout planned the wave so that they may be offline together). The wave ends when every
 * update has ended or paused for an operator; paused ones go on in their own workflows
 * (abandoned, not cancelled) and report to the rollout when they end.
 *
 * A child workflow per SSD keeps each SSD's saga, status and operator actions its own; the wave
 * keeps the rollout's history to a few events per wave, whatever its size.
 */
import { condition, ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { type BlockedUpdate, FirmwareWaveInput, type FirmwareWaveResult, type SsdUpdateOutcome } from '../schemas/firmware';
import { parseWorkflowInput } from '../schemas/validation';
import { ssdBlockedSignal } from './firmware-messages';
import { describeFailure } from './saga';
import { ssdFirmwareUpdate } from './ssd-firmware-update';

/** Runs one wave; see the file header. */
export async function ssdFirmwareWave(params: FirmwareWaveInput): Promise<FirmwareWaveResult> {
  const input = parseWorkflowInput(FirmwareWaveInput, params, 'ssdFirmwareWave');
  const paused = new Map<string, BlockedUpdate>();
  setHandler(ssdBlockedSignal, (blocked) => void paused.set(blocked.ssdId, blocked));

  const outcomes: SsdUpdateOutcome[] = [];
  const blocked: BlockedUpdate[] = [];
  const update = async ({ ssdId, workflowId }: { ssdId: string; workflowId: string }): Promise<void> => {
    try {
      const handle = await startChild(ssdFirmwareUpdate, {
        workflowId,
        args: [{ ssdId, version: input.version, rolloutWorkflowId: input.rolloutWorkflowId, pacing: input.pacing }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      const ended = handle.result().then(
        (outcome) => outcome,
        (err: unknown): SsdUpdateOutcome => ({ ssdId, outcome: 'failed', detail: describeFailure(err).message }),
      );
      const settled = await Promise.race([ended, condition(() => paused.has(ssdId)).then(() => undefined)]);
      if (settled !== undefined) outcomes.push(settled);
      else blocked.push(paused.get(ssdId) as BlockedUpdate);
    } catch (err) {
      outcomes.push({ ssdId, outcome: 'failed', detail: `could not start its update ${workflowId}: ${describeFailure(err).message}` });
    }
  };
  // At most `concurrency` updates in flight; the next starts as one ends or pauses.
  const queue = [...input.ssds];
  await Promise.all(
    Array.from({ length: Math.min(input.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await update(next);
    }),
  );
  return { index: input.index, outcomes, blocked };
}
