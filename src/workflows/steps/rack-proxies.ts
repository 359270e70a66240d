/**
 * The rack's activities as workflow code sees them: actions on the saga's kind of retry
 * budget, undos that retry transient failures without limit.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { oneShot, undo } from '../../schemas/retry-profiles';

/** Actions of one-shot sagas: a short bounded retry budget, then the saga unwinds. */
export const rack = proxyActivities<Activities>(oneShot);
/** Undos: never abandoned. */
export const rackUndo = proxyActivities<Activities>(undo);
