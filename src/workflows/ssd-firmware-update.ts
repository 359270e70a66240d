/**
 * `ssdFirmwareUpdate`: one SSD's firmware update as a reliable saga —
 * take offline → write firmware → reset → wait for it to come back → verify the version →
 * (pivot) → online → wait for its regions to resync.
 *
 * Before the pivot a failure unwinds: a drive that came back on its old firmware (a failed
 * update) is brought back online as it was, and the SSD counts as failed in its wave. A drive
 * that does not come back in time, or regions that do not resync, pause the saga for an
 * operator (`needs-operator`), never fail it: the wave is told (`ssdBlocked`) and goes on
 * without it, and when the saga ends it tells the rollout (`ssdSettled`). Cancelled before the
 * pivot it unwinds (the drive back online as it was); after it, it finishes bringing the drive
 * online, since a drive left offline on new firmware would help no one. An update cancelled so
 * counts as failed in its rollout, marked `cancelled`: not a firmware failure, so not towards a
 * wave's failure rate.
 */
import { ApplicationFailure, getExternalWorkflowHandle, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../schemas/failures';
import { SsdFirmwareUpdateInput, type SsdUpdateOutcome } from '../schemas/firmware';
import type { OperatorNotification } from '../schemas/saga';
import { parseWorkflowInput } from '../schemas/validation';
import { ssdBlockedSignal, ssdSettledSignal } from './firmware-messages';
import { describeFailure, runSaga } from './saga';
import { pollUntil, rackLocalReliable, rackLocalUndo } from './steps/firmware';
import { notifyProfile, type OperatorActivities } from './saga/notify';

const operator = proxyActivities<OperatorActivities>(notifyProfile);

/** Updates one SSD's firmware; see the file header. */
export async function ssdFirmwareUpdate(params: SsdFirmwareUpdateInput): Promise<SsdUpdateOutcome> {
  const input = parseWorkflowInput(SsdFirmwareUpdateInput, params, 'ssdFirmwareUpdate');
  const { ssdId, version, pacing } = input;
  const { workflowId, parent } = workflowInfo();
  let paused = false;

  // The engine calls this when a step pauses for an operator: the wave stops waiting for us.
  const notifyOperator = async (notification: OperatorNotification): Promise<void> => {
    if (!paused && parent !== undefined) {
      paused = true;
      await getExternalWorkflowHandle(parent.workflowId)
        .signal(ssdBlockedSignal, { ssdId, workflowId, step: notification.step, error: `${notification.error.type}: ${notification.error.message}` })
        .catch(() => undefined); // the wave may be gone; the rollout still hears of the end
    }
    await operator.notifyOperator(notification);
  };
  // Only an update its wave gave up waiting for reports its end to the rollout.
  const settle = async (outcome: SsdUpdateOutcome): Promise<void> => {
    if (!paused) return;
    await getExternalWorkflowHandle(input.rolloutWorkflowId).signal(ssdSettledSignal, outcome).catch(() => undefined);
  };

  try {
    const outcome = await runSaga(
      'ssdFirmwareUpdate',
      async (saga): Promise<SsdUpdateOutcome> => {
        const before = await rackLocalReliable.firmwareObserveSsd(ssdId, { sled: true });
        if (before.sledOnline === false) return { ssdId, outcome: 'deferred', detail: 'its sled is offline' };
        if (before.firmwareVersion === version && before.state === 'online') return { ssdId, outcome: 'done', detail: 'already at the version' };

        await saga.step('take-offline', {
          action: (ctx) => rackLocalReliable.ssdsOffline({ ssdId }, ctx.key),
          undo: (ctx) => rackLocalUndo.ssdsOnline(...ctx.undoKey),
        });
        await saga.step('write-firmware', {
          action: (ctx) => rackLocalReliable.ssdsUpdateFirmware({ ssdId, version }, ctx.key),
          undo: (ctx) => rackLocalUndo.ssdsClearFirmware(...ctx.undoKey),
        });
        await saga.step('reset', { action: (ctx) => rackLocalReliable.ssdsReset({ ssdId }, ctx.key) });
        const back = await saga.step('await-return', {
          action: () =>
            pollUntil(() => rackLocalReliable.firmwareObserveSsd(ssdId), (o) => o.state !== 'resetting', {
              timeoutMs: pacing.returnTimeoutMs,
              intervalMs: pacing.pollIntervalMs,
              what: `SSD ${ssdId} did not come back within ${pacing.returnTimeoutMs} ms of its reset: reseat or replace it, then retry`,
            }),
        });
        await saga.step('verify-version', {
          action: async () => {
            // What the drive runs once back is final until its next reset: the return's observation is enough.
            const now = back;
            if (now.firmwareVersion !== version) {
              throw ApplicationFailure.create({
                type: FailureType.Refused,
                nonRetryable: true,
                message: `SSD ${ssdId} came back from its reset on firmware ${now.firmwareVersion}, not ${version}: the update failed; it goes back online on its old firmware`,
              });
            }
            return now;
          },
        });
        // The drive runs the new firmware: from here on, only forward.
        saga.pivot();
        await saga.step('bring-online', { action: (ctx) => rackLocalReliable.ssdsOnline({ id: ssdId }, ctx.key) });
        await saga.step('await-resync', {
          action: () =>
            pollUntil(() => rackLocalReliable.firmwareObserveSsd(ssdId, { resync: true }), (o) => o.resyncing === 0, {
              timeoutMs: pacing.resyncTimeoutMs,
              intervalMs: pacing.pollIntervalMs,
              what: `regions on SSD ${ssdId} did not resync within ${pacing.resyncTimeoutMs} ms: look at the rack, then retry`,
            }),
        });
        return { ssdId, outcome: 'done', detail: null };
      },
      { notifyOperator },
    );
    await settle(outcome);
    return outcome;
  } catch (err) {
    // Cancelled from outside (before its pivot it unwound): failed, but not by its firmware.
    const cancelled = isCancellation(err);
    const detail = cancelled ? `its update ${workflowId} was cancelled from outside; not retried by this rollout` : describeFailure(err).message;
    await settle({ ssdId, outcome: 'failed', detail, ...(cancelled && { cancelled }) });
    throw err;
  }
}
