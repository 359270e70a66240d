// A short chaos run on the PostgreSQL cluster (the full thousand: `npm run bench -- chaos`):
// 100 sagas of every kind with rack faults on, a worker SIGKILLed every 10 s, the Temporal
// server every 30 s, PostgreSQL once — then the verdict from the engine's bookkeeping, the
// rack's ledger and inventory, and a replay of every history. Fails naming each violation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChaosReport } from '../src/testing/chaos';
import { chaosOnCluster } from '../src/testing/chaos/on-cluster';

describe('chaos on the PostgreSQL cluster', () => {
  it('loses nothing, applies nothing twice and leaves nothing behind through kills and faults; every history replays', async () => {
    // The run's folder (histories in PostgreSQL, workers' and server's logs, the rack's ledger)
    // is kept when the verdict finds a violation: the evidence outlives the run.
    const dataDir = mkdtempSync(join(tmpdir(), 'unwind-chaos-'));
    const report = await chaosOnCluster({
      dataDir,
      sagas: 100,
      seed: 11,
      concurrency: 12,
      workerKillEveryMs: 10_000,
      serverKillEveryMs: 30_000,
      databaseKillAtMs: 45_000,
      permanentFaultEvery: 25,
    });
    const text = renderChaosReport(report);
    console.log(text);
    if (report.violations.length > 0) console.log(`chaos: the run's folder is kept for a look: ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
    expect(report.violations, text).toEqual([]);
    expect(report.byState.completed ?? 0).toBeGreaterThan(50);
    expect(report.kills.worker ?? 0, text).toBeGreaterThanOrEqual(2);
    expect(report.kills['temporal server'] ?? 0, text).toBeGreaterThanOrEqual(1);
    expect(report.kills.postgresql ?? 0, text).toBe(1);
    // Each saga's history, and its children's (the migrations of a sled replacement, reminders).
    const started = 100 - (report.byState.refused ?? 0);
    expect(report.replayed).toBeGreaterThanOrEqual(started);
  }, 20 * 60_000);
});
