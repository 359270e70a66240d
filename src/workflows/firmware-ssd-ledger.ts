/**
 * Every SSD's progress in a firmware rollout (./ssd-firmware-rollout.ts), carried across
 * continue-as-new: what the waves reported, what paused updates reported late, and the counts
 * and list the rollout's status shows. The rollout decides; the ledger keeps the books.
 */
import type { FirmwareRolloutStatus, FirmwareWaveResult, SsdProgress, SsdRolloutState, SsdUpdateOutcome, WaveSummary } from '../schemas/firmware';

const STATES: readonly SsdRolloutState[] = ['pending', 'in-progress', 'done', 'deferred', 'blocked', 'failed'];

/** The SSDs of one rollout, by id. */
export class SsdLedger {
  private readonly ssds: Map<string, SsdProgress>;
  /** SSDs whose paused update reported its end before the wave that started it did. */
  private readonly settledEarly = new Set<string>();

  constructor(carried: Record<string, SsdProgress> = {}) {
    this.ssds = new Map(Object.entries(carried));
  }

  /** An SSD's progress; `pending` when first seen. */
  of(ssdId: string): SsdProgress {
    let p = this.ssds.get(ssdId);
    if (p === undefined) {
      p = { s: 'pending', a: 0 };
      this.ssds.set(ssdId, p);
    }
    return p;
  }

  [Symbol.iterator](): IterableIterator<[string, SsdProgress]> {
    return this.ssds.entries();
  }

  /** What the next run starts from. */
  carry(): Record<string, SsdProgress> {
    return Object.fromEntries(this.ssds);
  }

  /** SSDs the planner must leave alone: failed, in progress, or waiting for an operator. */
  skipList(): string[] {
    return [...this.ssds].filter(([, p]) => p.s === 'failed' || p.s === 'in-progress' || p.op === true).map(([id]) => id);
  }

  /** How many SSDs wait for an operator. */
  waitingForOperator(): number {
    return [...this.ssds.values()].filter((p) => p.op === true).length;
  }

  /** Puts `ids` in progress, one more attempt each; returns each update's workflow id (`<chain>:<ssd>:<attempt>`). */
  startWave(ids: readonly string[], chain: string): { ssdId: string; workflowId: string }[] {
    return ids.map((ssdId) => {
      const p = this.of(ssdId);
      p.a += 1;
      p.s = 'in-progress';
      p.d = `${chain}:${ssdId}:${p.a}`;
      delete p.t;
      this.settledEarly.delete(ssdId);
      return { ssdId, workflowId: p.d };
    });
  }

  /** A paused update reported its end (`ssdSettled`). */
  settle(outcome: SsdUpdateOutcome): void {
    const p = this.of(outcome.ssdId);
    p.s = outcome.outcome;
    p.op = false;
    p.d = outcome.detail ?? undefined;
    this.settledEarly.add(outcome.ssdId);
  }

  /** Records what a wave reported, counting it in `summary`; a late report already settled an SSD wins. */
  recordWave(result: FirmwareWaveResult, summary: WaveSummary): void {
    for (const o of result.outcomes) {
      const p = this.of(o.ssdId);
      p.s = o.outcome;
      p.d = o.detail ?? undefined;
      summary[o.outcome]++;
    }
    for (const ssdId of result.notStarted ?? []) {
      if (this.settledEarly.has(ssdId)) continue;
      const p = this.of(ssdId);
      p.s = 'pending';
      p.d = `${result.stopped ?? 'its wave stopped'}: planned again`;
      summary.replanned = (summary.replanned ?? 0) + 1;
    }
    for (const b of result.blocked) {
      summary.blocked++;
      if (this.settledEarly.has(b.ssdId)) continue;
      const p = this.of(b.ssdId);
      p.s = 'blocked';
      p.op = true;
      p.t = new Date().toISOString();
      p.d = `update paused at ${b.step} for an operator (${b.workflowId}): ${b.error}`;
    }
  }

  /**
   * Counts by state and the SSDs not done (all of them with `includeDone`). SSDs at the version
   * that the rollout never touched (`atVersion`: installed so, or updated before) are done too;
   * those of `total` it has not seen yet are pending.
   */
  tally(includeDone: boolean, atVersion: number, total: number): Pick<FirmwareRolloutStatus, 'counts' | 'ssds' | 'total'> {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<SsdRolloutState, number>;
    const ssds: FirmwareRolloutStatus['ssds'] = [];
    for (const [ssdId, p] of this.ssds) {
      counts[p.s]++;
      if (p.s !== 'done' || includeDone) ssds.push({ ssdId, state: p.s, detail: p.d ?? null, since: p.t ?? null, needsOperator: p.op === true });
    }
    counts.done = Math.max(counts.done, atVersion);
    const known = STATES.filter((s) => s !== 'pending').reduce((sum, s) => sum + counts[s], 0);
    counts.pending = Math.max(0, total - known);
    return { counts, ssds, total: Math.max(total, known) };
  }
}
