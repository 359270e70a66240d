/**
 * `firmwareReconciler`: compares the desired firmware of every model (the rack's targets) with
 * the SSDs as they are, and for every model that drifted — an SSD found at an old version, a
 * new SSD, a sled back online — starts its rollout or asks the running one to rescan. The
 * rollout's workflow id comes from model and version, so there is never a second rollout of
 * one target. Runs on a Temporal Schedule (`unwind firmware schedule`) or by hand
 * (`unwind firmware reconcile`).
 */
import type { ReconcileResult } from '../schemas/firmware';
import { rackLocalReliable, remoteReliable } from './steps/firmware';

/** One reconciliation pass; see the file header. */
export async function firmwareReconciler(): Promise<ReconcileResult> {
  const drift = await rackLocalReliable.firmwareDrift();
  const rollouts: string[] = [];
  for (const d of drift) {
    if (d.actionable === 0) continue;
    rollouts.push(
      await remoteReliable.firmwareEnsureRollout({
        model: d.model,
        version: d.version,
        reason: `reconciler: ${d.actionable} SSDs of ${d.model} are not at ${d.version}`,
      }),
    );
  }
  return { drift, rollouts };
}
