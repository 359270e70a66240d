/**
 * `ssdFirmwareWave`: one wave of a rollout — a child `ssdFirmwareUpdate` per SSD, all at once
 * (the rollout planned the wave so that they may be offline together). The wave ends when every
 * update has ended or paused for an operator; paused ones go on in their own workflows
 * (abandoned, not cancelled) and report to the rollout when they end.
 *
 * A child workflow per SSD keeps each SSD's saga, status and operator actions its own; the wave
 * keeps the rollout's history to a few events per wave, whatever its size.
 *
 * Cancellations from outside (an operator's `temporal workflow cancel`):
 * - of one SSD's update: that SSD is recorded `failed`, marked `cancelled` (not a firmware
 *   failure: the rollout does not count it towards the wave's failure rate), and the wave goes on;
 * - of the wave itself: it stops at a safe point — it starts no further update, lets those in
 *   flight end or pause (they are sagas of their own, with their own undos: cancelling them
 *   half-way would only unwind work that is going well), and completes with what it knows,
 *   listing the SSDs it never started (`notStarted`), which the rollout plans again. It
 *   completes rather than ending CANCELED because a cancelled workflow returns nothing: the
 *   rollout would lose the outcomes of the updates that ran.
 */
import { CancellationScope, condition, isCancellation, ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { type BlockedUpdate, FirmwareWaveInput, type FirmwareWaveResult, type SsdUpdateOutcome } from '../schemas/firmware';
import { parseWorkflowInput } from '../schemas/validation';
import { ssdBlockedSignal } from './firmware-messages';
import { describeFailure, forEachBounded } from './saga';
import { ssdFirmwareUpdate } from './ssd-firmware-update';

/** Runs one wave; see the file header. */
export async function ssdFirmwareWave(params: FirmwareWaveInput): Promise<FirmwareWaveResult> {
  const input = parseWorkflowInput(FirmwareWaveInput, params, 'ssdFirmwareWave');
  const paused = new Map<string, BlockedUpdate>();
  setHandler(ssdBlockedSignal, (blocked) => void paused.set(blocked.ssdId, blocked));
  let stopped: string | undefined;
  CancellationScope.current().cancelRequested.catch(() => {
    stopped ??= 'the wave was cancelled: it started no further update and let those in flight end or pause';
  });

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
        (err: unknown): SsdUpdateOutcome =>
          isCancellation(err)
            ? { ssdId, outcome: 'failed', detail: `its update ${workflowId} was cancelled from outside; not retried by this rollout`, cancelled: true }
            : { ssdId, outcome: 'failed', detail: describeFailure(err).message },
      );
      const settled = await Promise.race([ended, condition(() => paused.has(ssdId)).then(() => undefined)]);
      if (settled !== undefined) outcomes.push(settled);
      else blocked.push(paused.get(ssdId) as BlockedUpdate);
    } catch (err) {
      outcomes.push({ ssdId, outcome: 'failed', detail: `could not start its update ${workflowId}: ${describeFailure(err).message}` });
    }
  };
  // At most `concurrency` updates in flight; the next starts as one ends or pauses, until the wave is cancelled.
  // Shielded from the wave's cancellation: the updates started are neither cancelled nor left unwatched.
  const notStarted = await CancellationScope.nonCancellable(() =>
    forEachBounded(input.ssds, input.concurrency, update, { stopWhen: () => stopped !== undefined }),
  );
  return {
    index: input.index,
    outcomes,
    blocked,
    ...(stopped !== undefined && { stopped, notStarted: notStarted.map((s) => s.ssdId) }),
  };
}
