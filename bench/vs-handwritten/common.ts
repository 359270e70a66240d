/**
 * What every phase of the bench shares: the sides, the run's parts, waits bounded by the run's
 * deadline, event counts.
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { type UnwindClient } from '../../src/client';
import type { RackSeed } from '../../src/rack/schemas';
import { type TestRack } from '../../src/testing';
import type { VsSagaInput } from './plan';
import type { Settings } from './settings';
import type { WorkerProcess } from './worker-process';


export type Side = 'handwritten' | 'unwind';
export const SIDES: readonly Side[] = ['handwritten', 'unwind'];
export const WORKFLOW_TYPE: Record<Side, string> = { handwritten: 'handwrittenVsSaga', unwind: 'unwindVsSaga' };
export const APPROVER = 'bench';
export const TASK_QUEUE = 'vs-handwritten';
export const PARK = { expireAfter: '7d', remindEvery: '1d' } as const;
/** The approval step of a parked unwind saga (unwind-saga.ts). */
export const PARK_STEP = 'approve';

/** Room for every saga a run completes: 16 large sleds, 65,534 addresses. */
export const SEED: RackSeed = { ipPool: '10.0.0.0/16', sleds: Array.from({ length: 16 }, () => ({ cpus: 256, memoryGiB: 4096, ssds: [{}, {}] })) };



export const progress = (line: string) => process.stderr.write(`[vs-handwritten ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const MiB = 2 ** 20;

/** Stops everything when the deadline passes or a signal comes: every wait checks it. */
export const abort = new AbortController();

export function checkAbort(): void {
  if (abort.signal.aborted) throw new Error(`stopped: ${String(abort.signal.reason)}`);
}

/** `promise`, or an error after `ms` (or as soon as the run is aborted). */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
        onAbort = () => reject(new Error(`${what}: stopped (${String(abort.signal.reason)})`));
        abort.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) abort.signal.removeEventListener('abort', onAbort);
  }
}

/** Runs `fn` over `items`, `concurrency` at a time; the first error stops new work and is thrown. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      checkAbort();
      const index = next++;
      try {
        await fn(items[index]!, index);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure !== undefined) throw failure;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Counts a history's events by type (`ActivityTaskScheduled`, …), read from which attributes each event carries. */
export function eventTypes(events: readonly object[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    const key = Object.entries(event).find(([k, v]) => k.endsWith('EventAttributes') && v)?.[0] ?? 'unknown';
    const name = key.replace(/EventAttributes$/, '');
    const type = name.charAt(0).toUpperCase() + name.slice(1);
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** unwind's counts minus hand-written's, by event type (only the types that differ). */
export function eventDiff(hw: Record<string, number>, uw: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const type of new Set([...Object.keys(hw), ...Object.keys(uw)])) {
    const d = (uw[type] ?? 0) - (hw[type] ?? 0);
    if (d !== 0) diff[type] = d;
  }
  return diff;
}


export interface Parts {
  client: Client;
  unwind: UnwindClient;
  rack: TestRack;
  workerEnv: Record<string, string>;
  worker: WorkerProcess;
  settings: Settings;
  runId: string;
}

export function start(parts: Parts, side: Side, workflowId: string, input: VsSagaInput): Promise<WorkflowHandle> {
  return parts.client.workflow.start(WORKFLOW_TYPE[side], { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

/** A name for the rack's disks: unique in the run. */
export const diskName = (parts: Parts, side: Side, tag: string) => `${parts.runId}-${side === 'handwritten' ? 'hw' : 'uw'}-${tag}`;
