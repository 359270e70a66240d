/**
 * Fault injection for the simulated rack: standing per-operation rules (error rates, latency,
 * permanent failures) and one-shot scripted faults, decided with a seedable PRNG so a test
 * that sets a seed sees the same faults on every run.
 *
 * Faults live in memory: they are test configuration, not rack state, and a restart clears them.
 */
import { type DriveFault, type FaultKind, type FaultRule, type FaultState, type ResourceName, type ScriptedFault, mutations, resources } from './schemas';

/** The operation pattern that matches every operation without a rule of its own. */
export const ANY_OPERATION = '*';

const RESOURCE_NAMES = Object.keys(resources) as ResourceName[];
const MUTATION_NAMES = Object.keys(mutations);

/**
 * Every operation a fault can be set on: `*`, every mutation, and the reads `<resource>.list`
 * and `<resource>.get`, in that order. Nothing else is ever decided, so a rule for anything
 * else would never fire.
 */
export const FAULT_OPERATIONS: readonly string[] = [
  ANY_OPERATION,
  ...MUTATION_NAMES,
  ...RESOURCE_NAMES.flatMap((r) => [`${r}.list`, `${r}.get`]),
];

/** True when a fault can be set on `operation` (see {@link FAULT_OPERATIONS}). */
export function isFaultOperation(operation: string): boolean {
  return FAULT_OPERATIONS.includes(operation);
}

/**
 * The valid operations, for a message refusing `operation`: those of its resource when the
 * resource exists (`regions.ensur` → `regions.ensure, regions.delete, regions.move, regions.list, regions.get`),
 * else every one.
 */
export function validFaultOperations(operation: string): string {
  const resource = operation.split('.')[0] ?? '';
  const same = FAULT_OPERATIONS.filter((op) => op.startsWith(`${resource}.`));
  if (same.length > 0) return `the operations of ${resource} are ${same.join(', ')}`;
  return (
    `valid operations are * (every operation without its own rule), a read <resource>.list or ` +
    `<resource>.get (resources: ${RESOURCE_NAMES.join(', ')}), or a mutation: ${MUTATION_NAMES.join(', ')}`
  );
}

/** Why a fault cannot be set on `operation`, or `undefined` when it can. */
export function unknownFaultOperation(operation: string): string | undefined {
  return isFaultOperation(operation) ? undefined : `unknown operation '${operation}': ${validFaultOperations(operation)}`;
}

/** Mulberry32: a small, fast PRNG whose whole state is one 32-bit seed. Returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkOperation(operation: string): void {
  const unknown = unknownFaultOperation(operation);
  if (unknown !== undefined) throw new RangeError(unknown);
}

/** What the server must do with one call: wait `latencyMs`, then fail with `kind` (if any). */
export interface FaultDecision {
  /** Delay before the call is handled. */
  latencyMs: number;
  /** The fault to inject, or null to handle the call normally. */
  kind: FaultKind | null;
  /** The HTTP status for a `transient` or `ambiguous` fault. */
  status: number;
}

/** Holds fault rules and scripts, and decides each call's fault. */
export class FaultInjector {
  private seed: number;
  private random: () => number;
  private readonly rules = new Map<string, FaultRule>();
  private scripted: ScriptedFault[] = [];
  private drives = new Map<string, DriveFault>();

  /** @param seed the PRNG seed; the same seed and the same calls give the same faults. */
  constructor(seed = 1) {
    this.seed = seed;
    this.random = mulberry32(seed);
  }

  /** Restarts the PRNG from `seed`. */
  setSeed(seed: number): void {
    this.seed = seed;
    this.random = mulberry32(seed);
  }

  /**
   * Sets (replaces) the standing rule of `rule.operation`.
   * @throws RangeError for an operation no call is ever decided for (see {@link FAULT_OPERATIONS})
   */
  setRule(rule: FaultRule): void {
    checkOperation(rule.operation);
    this.rules.set(rule.operation, rule);
  }

  /**
   * Queues a one-shot fault: the next `count` calls of the operation fail with `kind`.
   * @throws RangeError for an operation no call is ever decided for
   */
  script(fault: ScriptedFault): void {
    checkOperation(fault.operation);
    this.scripted.push({ ...fault });
  }

  /** Sets (replaces) the simulated behaviour of one drive (see {@link DriveFault}). */
  setDrive(fault: DriveFault): void {
    this.drives.set(fault.ssdId, { ...fault });
  }

  /** Removes the drive fault of `ssdId`; true when there was one. */
  clearDrive(ssdId: string): boolean {
    return this.drives.delete(ssdId);
  }

  /** The drive fault of `ssdId` in force, if any (without using it up). */
  driveFault(ssdId: string): DriveFault['kind'] | undefined {
    return this.drives.get(ssdId)?.kind;
  }

  /** Uses up one reset's worth of the drive fault of `ssdId` and returns its kind, if any. */
  takeDriveFault(ssdId: string): DriveFault['kind'] | undefined {
    const fault = this.drives.get(ssdId);
    if (fault === undefined) return undefined;
    // A drive that never returns stays faulty until cleared: a reset is what it never recovers from.
    if (fault.kind !== 'never-returns') {
      fault.count -= 1;
      if (fault.count <= 0) this.drives.delete(ssdId);
    }
    return fault.kind;
  }

  /** Removes the rules and scripts of `operation`, or everything including drive faults (the seed stays). */
  clear(operation?: string): void {
    if (operation === undefined) {
      this.rules.clear();
      this.scripted = [];
      this.drives.clear();
      return;
    }
    this.rules.delete(operation);
    this.scripted = this.scripted.filter((s) => s.operation !== operation);
  }

  /** The configuration in force. */
  state(): FaultState {
    return {
      seed: this.seed,
      rules: [...this.rules.values()],
      scripted: this.scripted.map((s) => ({ ...s })),
      drives: [...this.drives.values()].map((d) => ({ ...d })),
    };
  }

  /**
   * Decides the fault of one call of `operation`, consuming a scripted fault if one is queued.
   * Scripts for the operation itself win over `*` scripts, which win over rules.
   */
  decide(operation: string): FaultDecision {
    const rule = this.rules.get(operation) ?? this.rules.get(ANY_OPERATION);
    const latencyMs = rule?.latencyMs ?? 0;
    const script =
      this.scripted.find((s) => s.operation === operation) ?? this.scripted.find((s) => s.operation === ANY_OPERATION);
    if (script !== undefined) {
      script.count -= 1;
      if (script.count <= 0) this.scripted = this.scripted.filter((s) => s !== script);
      return { latencyMs, kind: script.kind, status: script.status ?? 503 };
    }
    if (rule === undefined) return { latencyMs, kind: null, status: 503 };
    if (rule.permanent !== undefined) return { latencyMs, kind: rule.permanent, status: 409 };
    // One draw per call whatever the rates, so changing one rate never shifts later decisions.
    const draw = this.random();
    const kind = draw < rule.transientRate ? 'transient' : draw < rule.transientRate + rule.ambiguousRate ? 'ambiguous' : null;
    return { latencyMs, kind, status: 503 };
  }
}
