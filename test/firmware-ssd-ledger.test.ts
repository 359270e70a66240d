import { describe, expect, it } from 'vitest';
import type { WaveSummary } from '../src/schemas/firmware';
import { SsdLedger } from '../src/workflows/firmware-ssd-ledger';

const newSummary = (): WaveSummary => ({ index: 0, size: 4, done: 0, failed: 0, blocked: 0, deferred: 0, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null });

describe('SsdLedger', () => {
  it('records a wave: outcomes, SSDs planned again, paused updates — and a late report that came first wins', () => {
    const ledger = new SsdLedger();
    expect(ledger.startWave(['a', 'b', 'c', 'd'], 'rollout@1')).toEqual([
      { ssdId: 'a', workflowId: 'rollout@1:a:1' },
      { ssdId: 'b', workflowId: 'rollout@1:b:1' },
      { ssdId: 'c', workflowId: 'rollout@1:c:1' },
      { ssdId: 'd', workflowId: 'rollout@1:d:1' },
    ]);
    // d's update paused, then ended and reported before its wave did.
    ledger.settle({ ssdId: 'd', outcome: 'done', detail: null });
    const summary = newSummary();
    ledger.recordWave(
      {
        index: 0,
        outcomes: [{ ssdId: 'a', outcome: 'done', detail: null }, { ssdId: 'b', outcome: 'failed', detail: 'drive never returned' }],
        blocked: [{ ssdId: 'd', step: 'await-return', workflowId: 'rollout@1:d:1', error: 'NeedsOperator' }],
        notStarted: ['c'],
        stopped: 'the wave was cancelled',
      },
      summary,
    );
    expect(summary).toMatchObject({ done: 1, failed: 1, blocked: 1, replanned: 1 });
    expect(ledger.of('c')).toMatchObject({ s: 'pending', d: 'the wave was cancelled: planned again' });
    expect(ledger.of('d')).toMatchObject({ s: 'done', op: false });
    expect(ledger.skipList()).toEqual(['b']);
    expect(ledger.waitingForOperator()).toBe(0);
  });

  it('tallies the status: done counts SSDs already at the version, pending those not seen yet', () => {
    const ledger = new SsdLedger({ a: { s: 'done', a: 1 }, b: { s: 'blocked', a: 1, op: true, d: 'mirrors not healthy' } });
    const { counts, ssds, total } = ledger.tally(false, 3, 10);
    expect(counts).toEqual({ pending: 6, 'in-progress': 0, done: 3, deferred: 0, blocked: 1, failed: 0 });
    expect(total).toBe(10);
    expect(ssds).toEqual([{ ssdId: 'b', state: 'blocked', detail: 'mirrors not healthy', since: null, needsOperator: true }]);
    expect(ledger.tally(true, 0, 0).ssds.map((s) => s.ssdId)).toEqual(['a', 'b']);
    expect(ledger.carry()).toEqual({ a: { s: 'done', a: 1 }, b: { s: 'blocked', a: 1, op: true, d: 'mirrors not healthy' } });
  });
});
