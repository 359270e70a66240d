/**
 * The rack's activities as workflow code sees them, by retry budget: one-shot actions, undos
 * and forward-only actions (both of which retry transient failures without limit).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { oneShot, reliable, undo } from '../../schemas/retry-profiles';

/** Actions of one-shot sagas: a short bounded retry budget, then the saga unwinds. */
export const rack = proxyActivities<Activities>(oneShot);
/** Undos: never abandoned. */
export const rackUndo = proxyActivities<Activities>(undo);
/** Actions after a pivot: there is no going back, so transient failures retry without limit. */
export const rackForward = proxyActivities<Activities>(reliable);
