/**
 * The rack's activities as workflow code sees them: regular (server-scheduled) activities, one
 * proxy per retry budget, each named for its profile — one-shot actions, undos, and reliable
 * actions (the last two retry transient failures without limit). The firmware workflows call
 * the rack as local activities instead (./firmware.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { oneShot, reliable, undo } from '../../schemas/retry-profiles';

/** Actions of one-shot sagas: a short bounded retry budget, then the saga unwinds. */
export const rackOneShot = proxyActivities<Activities>(oneShot);
/** Undos: never abandoned. */
export const rackUndo = proxyActivities<Activities>(undo);
/** Actions after a pivot: there is no going back, so transient failures retry without limit. */
export const rackReliable = proxyActivities<Activities>(reliable);
