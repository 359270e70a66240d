/**
 * Messages of the firmware rollout: exported constants, so clients and the workflows that
 * signal each other are typed end to end.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BlockedUpdate, FirmwareRolloutStatus, RescanRequest, SsdUpdateOutcome } from '../schemas/firmware';

/** Asks a rollout to look at the rack again now (the reconciler sends it on drift). */
export const rescanSignal = defineSignal<[RescanRequest]>('rescan');

/** An SSD's update paused for an operator: sent by `ssdFirmwareUpdate` to its wave, which stops waiting for it. */
export const ssdBlockedSignal = defineSignal<[BlockedUpdate]>('ssdBlocked');

/** An SSD's update that had paused for an operator has ended: sent by `ssdFirmwareUpdate` to its rollout. */
export const ssdSettledSignal = defineSignal<[SsdUpdateOutcome]>('ssdSettled');

/** A rollout's progress: counts, waves and every SSD not done (every SSD with `includeDone`). */
export const firmwareRolloutStatusQuery = defineQuery<FirmwareRolloutStatus, [{ includeDone?: boolean }?]>('firmwareRolloutStatus');
