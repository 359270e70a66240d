/**
 * What a chaos run asks of unwind: a seeded mix of sagas, chosen one at a time so that deletes
 * and migrations act on instances earlier sagas created, and never two of the run's own sagas
 * on one object at once (contention comes from the sagas' own children: a sled replacement
 * evacuates instances the run may also be moving).
 */
import { mulberry32 } from '../../rack/faults';

/** The saga types a chaos run mixes. */
export type ChaosSagaType = 'instanceCreate' | 'instanceDelete' | 'instanceMigrate' | 'diskCreate' | 'sledReplace';

/** One saga the run starts: its type, its request, and the object it acts on. */
export type ChaosRequest =
  | { type: 'instanceCreate'; name: string; cpus: number; memoryGiB: number; diskGiB: number; nics: number }
  | { type: 'diskCreate'; name: string; sizeGiB: number }
  | { type: 'instanceDelete'; instanceId: string }
  | { type: 'instanceMigrate'; instanceId: string }
  | { type: 'sledReplace'; sledId: string };

/** How often each type is drawn (relative weights); deletes and migrations need a ready instance. */
export const DEFAULT_MIX: Readonly<Record<ChaosSagaType, number>> = {
  instanceCreate: 40,
  diskCreate: 20,
  instanceDelete: 15,
  instanceMigrate: 24,
  sledReplace: 1,
};

/**
 * Draws the next request. Instances are `ready` when a create completed and no saga of the run
 * acts on them; a sled is replaced only while no other replacement of the run runs. A draw that has
 * nothing to act on falls back to a create, so the count of sagas is always reached.
 */
export class Workload {
  private readonly random: () => number;
  private readonly total: number;
  private readonly ready = new Set<string>();
  private readonly busySleds = new Set<string>();

  constructor(
    seed: number,
    private readonly sleds: readonly string[],
    private readonly mix: Readonly<Record<ChaosSagaType, number>> = DEFAULT_MIX,
  ) {
    this.random = mulberry32(seed);
    this.total = Object.values(mix).reduce((a, b) => a + b, 0);
  }

  /** A uniform draw in [0, 1): the run's other seeded choices (faults, decisions) come from here too. */
  draw(): number {
    return this.random();
  }

  /** The `index`-th request of the run. */
  request(index: number): ChaosRequest {
    const type = this.pickType();
    const name = `chaos-${index}`;
    if (type === 'instanceDelete' || type === 'instanceMigrate') {
      const instanceId = this.take();
      if (instanceId) return { type, instanceId };
    }
    // One sled in maintenance at a time, as a rack's operators would have it.
    if (type === 'sledReplace' && this.busySleds.size === 0) {
      const idle = this.sleds;
      if (idle.length > 0) {
        const sledId = idle[Math.floor(this.random() * idle.length)]!;
        this.busySleds.add(sledId);
        return { type, sledId };
      }
    }
    if (type === 'diskCreate') return { type, name, sizeGiB: 1 + Math.floor(this.random() * 8) };
    return { type: 'instanceCreate', name, cpus: 1 + Math.floor(this.random() * 2), memoryGiB: 1 + Math.floor(this.random() * 4), diskGiB: 10, nics: 1 + Math.floor(this.random() * 2) };
  }

  /** Tells the workload how a saga ended, so what it created or freed can be acted on again. */
  settled(request: ChaosRequest, outcome: { completed: boolean; instanceId?: string }): void {
    if (request.type === 'instanceCreate' && outcome.completed && outcome.instanceId) this.ready.add(outcome.instanceId);
    if (request.type === 'instanceMigrate') this.ready.add(request.instanceId);
    if (request.type === 'instanceDelete' && !outcome.completed) this.ready.add(request.instanceId);
    if (request.type === 'sledReplace') this.busySleds.delete(request.sledId);
  }

  private pickType(): ChaosSagaType {
    let x = this.random() * this.total;
    for (const [type, weight] of Object.entries(this.mix) as [ChaosSagaType, number][]) {
      if ((x -= weight) < 0) return type;
    }
    return 'instanceCreate';
  }

  private take(): string | undefined {
    if (this.ready.size === 0) return undefined;
    const all = [...this.ready];
    const id = all[Math.floor(this.random() * all.length)]!;
    this.ready.delete(id);
    return id;
  }
}
