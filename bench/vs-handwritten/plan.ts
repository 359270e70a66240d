/**
 * The work both sides of the vs-handwritten bench do, as data: 10 steps — 8 in sequence, then a
 * group of 2 in parallel — each an action and its undo, both activity calls. The hand-written
 * workflow and the unwind saga run the same steps, under the same idempotency keys
 * (`<workflowId>/<step>` for the action, `<workflowId>/<step>/undo` for the undo), with the
 * activity proxies each side makes itself. Workflow code: no Node built-ins.
 */
import type { Duration } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import type { TrivialActivities } from './activities';

/** Which activities the steps call: in-process trivial ones, or the rack simulator over HTTP. */
export type ActivitySet = 'trivial' | 'rack';

/** The input of both sides' workflow. */
export interface VsSagaInput {
  set: ActivitySet;
  /** Unique per saga; names the rack's disks (`<name>-a`, `<name>-b`). */
  name: string;
  /**
   * The step (1 to 10, in the order of {@link STEP_NAMES}) whose action fails, refused. On the
   * rack set only step 6 can fail: it asks for disk b under the name disk a already has.
   */
  failAt?: number;
  /**
   * Wait for an approval before the first step, expiring after `expireAfter` (e.g. `7d`);
   * unwind's approval also reminds every `remindEvery` (the hand-written one never reminds).
   */
  park?: { expireAfter: Duration; remindEvery: Duration };
}

/** One step: its name (also the key's last part), its action and its undo, given the key. */
export interface PlannedStep {
  readonly name: string;
  readonly action: (key: string) => Promise<unknown>;
  readonly undo: (key: string) => Promise<unknown>;
}

/** The steps of one run: `sequence` one after the other, then `parallel` together. */
export interface Plan {
  readonly sequence: readonly PlannedStep[];
  /** The parallel group's name (unwind's `saga.parallel(name, …)`). */
  readonly group: string;
  readonly parallel: readonly PlannedStep[];
  /** What the workflow returns: the same on both sides. */
  result(): { set: ActivitySet; outputs: number };
}

/** The proxies a side made: actions with a bounded budget, undos retried without limit. */
export interface Proxies {
  readonly action: Activities & TrivialActivities;
  readonly undo: Activities & TrivialActivities;
}

/** Step names in order, for checks (the rack's ledger) and the report. */
export const STEP_NAMES = [
  'create-disk-a',
  'ensure-region-a[0]',
  'ensure-region-a[1]',
  'ensure-region-a[2]',
  'allocate-ip[0]',
  'create-disk-b',
  'ensure-region-b[0]',
  'allocate-ip[1]',
  'ensure-region-b[1]',
  'ensure-region-b[2]',
] as const;

/** The parallel group: the last two steps. */
export const GROUP_NAME = 'last-regions';

/** The steps of `input`, calling `proxies`. */
export function makePlan(input: VsSagaInput, proxies: Proxies): Plan {
  const failing = (i: number) => input.failAt === i + 1;
  let outputs = 0;
  const steps: PlannedStep[] = input.set === 'trivial' ? trivialSteps(proxies, failing, () => outputs++) : rackSteps(input, proxies, failing, () => outputs++);
  return {
    sequence: steps.slice(0, 8),
    group: GROUP_NAME,
    parallel: steps.slice(8),
    result: () => ({ set: input.set, outputs }),
  };
}

function trivialSteps(p: Proxies, failing: (i: number) => boolean, count: () => void): PlannedStep[] {
  return STEP_NAMES.map((name, i) => ({
    name,
    action: async (key) => {
      const out = await p.action.vsTrivialAction({ step: name, key, ...(failing(i) && { fail: true }) });
      count();
      return out;
    },
    undo: (key) => p.undo.vsTrivialUndo({ step: name, key }),
  }));
}

function rackSteps(input: VsSagaInput, p: Proxies, failing: (i: number) => boolean, count: () => void): PlannedStep[] {
  if (input.failAt !== undefined && input.failAt !== 6) {
    throw new Error(`failAt ${input.failAt}: on the rack set only step 6 (create-disk-b) can be made to fail`);
  }
  const disks: { a?: string; b?: string } = {};
  const diskOf = (which: 'a' | 'b'): string => {
    const id = disks[which];
    if (id === undefined) throw new Error(`disk ${which} was not created`);
    return id;
  };
  const undoBy = (op: 'disksDelete' | 'regionsDelete' | 'ipsRelease') => (key: string) => p.undo[op]({ actionKey: key }, `${key}/undo`);
  // A failing create of disk b asks for the name disk a has: the rack refuses it (name taken).
  const createDisk = (which: 'a' | 'b', i: number): PlannedStep => ({
    name: STEP_NAMES[i]!,
    action: async (key) => {
      const disk = await p.action.disksCreate({ name: `${input.name}-${failing(i) ? 'a' : which}`, sizeGiB: 1 }, key);
      disks[which] = disk.id;
      count();
      return disk;
    },
    undo: undoBy('disksDelete'),
  });
  const ensureRegion = (which: 'a' | 'b', i: number): PlannedStep => ({
    name: STEP_NAMES[i]!,
    action: async (key) => {
      const region = await p.action.regionsEnsure({ diskId: diskOf(which) }, key);
      count();
      return region;
    },
    undo: undoBy('regionsDelete'),
  });
  const allocateIp = (i: number): PlannedStep => ({
    name: STEP_NAMES[i]!,
    action: async (key) => {
      const ip = await p.action.ipsAllocate({}, key);
      count();
      return ip;
    },
    undo: undoBy('ipsRelease'),
  });
  return [
    createDisk('a', 0),
    ensureRegion('a', 1),
    ensureRegion('a', 2),
    ensureRegion('a', 3),
    allocateIp(4),
    createDisk('b', 5),
    ensureRegion('b', 6),
    allocateIp(7),
    ensureRegion('b', 8),
    ensureRegion('b', 9),
  ];
}
