/**
 * Parking: sagas waiting for an approval — the worker's memory, the events while parked and at
 * the end, deciding one while all wait, releasing them all.
 */
import { performance } from 'node:perf_hooks';
import { approveUpdate, sagaStatusQuery } from '../../src/workflows/saga/messages';
import { median } from './stats';
import type { EffectiveOptions } from './worker';
import { type Parts, type Side, APPROVER, PARK, PARK_STEP, WORKFLOW_TYPE, bounded, checkAbort, pool, progress, range, sleep, start, MiB, eventTypes, diskName } from './common';
import { WorkerProcess } from './worker-process';


export interface ParkResult {
  side: Side;
  parked: number;
  idleRss: number;
  parkedRss: number;
  parkedHeapUsed: number;
  parkWallMs: number;
  parkCpuMs: number;
  eventsWhileParked: number;
  eventsAtEnd: number;
  typesWhileParked: Record<string, number>;
  typesAtEnd: Record<string, number>;
  /**
   * One decision while all wait, ms: sending it (a signal: accepted by the server; unwind's
   * approve: describe, status query, and the update completed by the worker), from sending it to
   * the first step scheduled (the saga acted on it), and to the saga completed (10 steps later).
   */
  decideSendMs: number[];
  decideActedMs: number[];
  decideCompleteMs: number[];
  /** unwind only: what its client's approve is made of, measured apart on other parked sagas. */
  breakdown?: { describeMs: number[]; statusQueryMs: number[]; updateWithWaitIdMs: number[] };
  released: number;
  releaseSendMs: number;
  releaseCompleteMs: number;
  releaseCpuMs: number;
  /** Workflow tasks over 5 s while parking and releasing: more than 0 means a starved worker. */
  slowTasks: number;
  workerOptions: EffectiveOptions | undefined;
}

export async function countRunning(parts: Parts, side: Side): Promise<number> {
  const { count } = await parts.client.workflow.count(`WorkflowType = '${WORKFLOW_TYPE[side]}' AND ExecutionStatus = 'Running'`);
  return count;
}

/** True once the saga has taken its first decisions and waits: no task, activity or child start pending. */
export async function isParked(parts: Parts, workflowId: string): Promise<boolean> {
  const d = await parts.client.workflow.getHandle(workflowId).describe();
  const raw = d.raw;
  return (
    d.historyLength >= 5 &&
    !raw.pendingWorkflowTask &&
    (raw.pendingActivities ?? []).length === 0 &&
    (raw.pendingChildren ?? []).every((c) => Boolean(c.runId))
  );
}

export async function decide(parts: Parts, side: Side, workflowId: string): Promise<void> {
  if (side === 'handwritten') await parts.client.workflow.getHandle(workflowId).signal('approve', { approver: APPROVER });
  else await parts.unwind.sagas.approve(workflowId, { approver: APPROVER });
}

export async function park(parts: Parts, side: Side): Promise<ParkResult> {
  const { park: count, releaseConcurrency, decideSamples, sagaTimeoutMs } = parts.settings;
  // A fresh worker per side: its RSS holds this side's parked sagas only.
  await parts.worker.stop();
  parts.worker = await WorkerProcess.start(parts.workerEnv);
  await sleep(2_000);
  const idle = await parts.worker.usage();
  const ids = range(count).map((i) => `vs/${parts.runId}/${side}/park/${i}`);
  const runningBefore = await countRunning(parts, side);
  if (runningBefore !== 0) throw new Error(`${runningBefore} ${WORKFLOW_TYPE[side]} still running before parking`);

  progress(`parking ${count} ${side} sagas (${releaseConcurrency} starts in flight)`);
  const started = performance.now();
  await pool(ids, releaseConcurrency, async (id, i) => {
    await start(parts, side, id, { set: 'trivial', name: diskName(parts, side, `park-${i}`), park: PARK });
  });
  // Parked: every saga took its first task and waits. Checked in passes until all are.
  // However loaded the machine, the run waits while sagas keep parking; 120 s without one is a failure.
  let waiting = ids;
  let progressedAt = performance.now();
  while (waiting.length > 0) {
    if (performance.now() - progressedAt > 120_000) throw new Error(`${waiting.length} ${side} sagas not parked, none parked in the last 120 s`);
    const before = waiting.length;
    const still: string[] = [];
    await pool(waiting, releaseConcurrency, async (id) => {
      if (!(await isParked(parts, id))) still.push(id);
    });
    waiting = still;
    if (waiting.length < before) progressedAt = performance.now();
    if (waiting.length > 0) {
      progress(`  ${count - waiting.length}/${count} parked`);
      await sleep(1_000);
    }
  }
  const parkWallMs = performance.now() - started;
  await sleep(2_000);
  const parked = await parts.worker.usage();
  progress(`  ${count} parked in ${(parkWallMs / 1000).toFixed(1)} s; worker RSS ${(parked.rss / MiB).toFixed(0)} MiB (idle ${(idle.rss / MiB).toFixed(0)} MiB)`);

  const sample = parts.client.workflow.getHandle(ids[0]!);
  const parkedHistory = (await sample.fetchHistory()).events ?? [];

  // One saga decided while all the others wait.
  const decideSendMs: number[] = [];
  const decideActedMs: number[] = [];
  const decideCompleteMs: number[] = [];
  for (const id of ids.slice(0, decideSamples)) {
    const sentAt = Date.now();
    const t0 = performance.now();
    await decide(parts, side, id);
    const t1 = performance.now();
    const handle = parts.client.workflow.getHandle(id);
    await bounded(handle.result(), sagaTimeoutMs, `saga ${id}`);
    decideSendMs.push(t1 - t0);
    decideCompleteMs.push(performance.now() - t0);
    // Acted on: the server's time of the first step's ActivityTaskScheduled (the step's own
    // activity: an approval may schedule others before it parks), from the same clock.
    const first = ((await handle.fetchHistory()).events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'vsTrivialAction');
    const seconds = Number(first?.eventTime?.seconds ?? NaN);
    decideActedMs.push(seconds * 1000 + (first?.eventTime?.nanos ?? 0) / 1e6 - sentAt);
  }
  progress(
    `  decide one: ${median(decideSendMs).toFixed(0)} ms to send, ${median(decideActedMs).toFixed(0)} ms to its first step, ` +
      `${median(decideCompleteMs).toFixed(0)} ms to completed (median of ${decideSamples})`,
  );
  let breakdown: ParkResult['breakdown'];
  let rest = ids.slice(decideSamples);
  if (side === 'unwind') {
    // The client's approve, taken apart: describe (is it running?), the status query (which wait?), the update.
    breakdown = { describeMs: [], statusQueryMs: [], updateWithWaitIdMs: [] };
    for (const id of rest.slice(0, decideSamples)) {
      const handle = parts.client.workflow.getHandle(id);
      let t = performance.now();
      await handle.describe();
      breakdown.describeMs.push(performance.now() - t);
      t = performance.now();
      const status = await handle.query(sagaStatusQuery);
      breakdown.statusQueryMs.push(performance.now() - t);
      const waitId = status.pendingApproval?.waitId;
      if (waitId === undefined) throw new Error(`${id} has no pending approval`);
      t = performance.now();
      await handle.executeUpdate(approveUpdate, { args: [{ approver: APPROVER, waitId }] });
      breakdown.updateWithWaitIdMs.push(performance.now() - t);
      await bounded(handle.result(), sagaTimeoutMs, `saga ${id}`);
    }
    rest = rest.slice(decideSamples);
  } else {
    // The same number decided on the hand-written side, so both release the same count.
    for (const id of rest.slice(0, decideSamples)) {
      await decide(parts, side, id);
      await bounded(parts.client.workflow.getHandle(id).result(), sagaTimeoutMs, `saga ${id}`);
    }
    rest = rest.slice(decideSamples);
  }
  const decided = parts.client.workflow.getHandle(ids[1]!);
  const endHistory = (await decided.fetchHistory()).events ?? [];

  progress(`  releasing ${rest.length} (${releaseConcurrency} decisions in flight)`);
  const beforeRelease = await parts.worker.usage();
  const releaseStarted = performance.now();
  if (side === 'handwritten') await pool(rest, releaseConcurrency, (id) => decide(parts, side, id));
  else {
    // The client's bulk path, as `unwind approve --all-waiting` sends it: one update per saga, named by its step.
    const listed = rest.map((workflowId) => ({ workflowId, saga: WORKFLOW_TYPE.unwind, step: PARK_STEP }));
    const burst = await parts.unwind.sagas.approveEach(listed, { approver: APPROVER }, { concurrency: releaseConcurrency });
    if (burst.approved !== rest.length) throw new Error(`approveEach approved ${burst.approved} of ${rest.length}: ${JSON.stringify(burst.outcomes.find((o) => o.outcome !== 'approved'))}`);
  }
  const releaseSendMs = performance.now() - releaseStarted;
  // Released sagas run their 10 steps: wait while they make progress, however long that takes.
  let stalledSince = performance.now();
  for (let last = Infinity; ; ) {
    const running = await countRunning(parts, side);
    if (running === 0) break;
    if (running < last) [last, stalledSince] = [running, performance.now()];
    if (performance.now() - stalledSince > 120_000) throw new Error(`${running} ${side} sagas still running, none finished in the last 120 s`);
    checkAbort();
    await sleep(250);
  }
  const releaseCompleteMs = performance.now() - releaseStarted;
  const afterRelease = await parts.worker.usage();
  const { count: completed } = await parts.client.workflow.count(
    `WorkflowType = '${WORKFLOW_TYPE[side]}' AND ExecutionStatus = 'Completed' AND WorkflowId STARTS_WITH 'vs/${parts.runId}/${side}/park/'`,
  );
  if (completed !== count) throw new Error(`${completed} of ${count} parked ${side} sagas completed`);
  progress(`  released: decisions sent in ${(releaseSendMs / 1000).toFixed(1)} s, all completed in ${(releaseCompleteMs / 1000).toFixed(1)} s`);
  return {
    side,
    parked: count,
    idleRss: idle.rss,
    parkedRss: parked.rss,
    parkedHeapUsed: parked.heapUsed,
    parkWallMs,
    parkCpuMs: (parked.cpuUs - idle.cpuUs) / 1000,
    eventsWhileParked: parkedHistory.length,
    eventsAtEnd: endHistory.length,
    typesWhileParked: eventTypes(parkedHistory),
    typesAtEnd: eventTypes(endHistory),
    decideSendMs,
    decideActedMs,
    decideCompleteMs,
    ...(breakdown && { breakdown }),
    released: rest.length,
    releaseSendMs,
    releaseCompleteMs,
    releaseCpuMs: (afterRelease.cpuUs - beforeRelease.cpuUs) / 1000,
    slowTasks: afterRelease.slowTasks - idle.slowTasks,
    workerOptions: parts.worker.options,
  };
}

