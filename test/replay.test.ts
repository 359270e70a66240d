/**
 * The replay corpus (test/histories, recorded by `npm run histories`): every history replays
 * with the current workflow code, one bundle for all. A change that would make a running
 * execution take another path fails here, naming the history. The corpus must also cover every
 * workflow type src/workflows exports, and the paths named below: a new saga without histories,
 * or a path dropped from the recording, fails too. No server: replay needs only the bundle.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleUnwindWorkflows } from '../src/testing';
import { readHistoryCorpus, replayHistories } from '../src/testing/replay';
import * as workflows from '../src/workflows';

const CORPUS = join(__dirname, 'histories');

/** Paths the corpus must hold, per workflow type (at least; a type may have more). */
const REQUIRED_PATHS: Record<string, string[]> = {
  instanceCreate: ['completed', 'unwound', 'needs-operator-retried', 'unknown-state-unwound', 'stuck-skipped', 'cancelled'],
  diskCreate: ['completed', 'stuck-retried'],
  instanceMigrate: ['completed', 'failed-after-pivot-retried'],
  instanceDelete: ['completed'],
  sledReplace: ['approved', 'rejected', 'approval-expired'],
  remindPeople: ['cancelled', 'reminded-escalated-cancelled', 'continued-as-new', 'after-continue-as-new'],
  ssdFirmwareRollout: ['continued-as-new', 'completed-after-continue-as-new'],
  ssdFirmwareWave: ['completed'],
  ssdFirmwareUpdate: ['completed', 'unwound'],
  firmwareReconciler: ['completed'],
  ping: ['completed'],
  pingAfter: ['completed'],
};

/** How some paths must have ended (a recording that went another way is no record of the path). */
const REQUIRED_ENDS: Record<string, string> = {
  'instanceCreate/completed': 'COMPLETED',
  'instanceCreate/cancelled': 'CANCELED',
  'sledReplace/approved': 'COMPLETED',
  'sledReplace/rejected': 'FAILED',
  'sledReplace/approval-expired': 'FAILED',
  'remindPeople/continued-as-new': 'CONTINUED_AS_NEW',
  'ssdFirmwareRollout/continued-as-new': 'CONTINUED_AS_NEW',
};

const corpus = readHistoryCorpus(CORPUS);

describe('the replay corpus', () => {
  it('replays every history with the current workflow code', async () => {
    const bundling = Date.now();
    const workflowBundle = await bundleUnwindWorkflows();
    const started = Date.now();
    const report = await replayHistories(corpus, { workflowBundle });
    const failed = report.failures.map((f) => `${f.label ?? f.workflowId}: ${f.error.name}: ${f.error.message}`);
    expect(failed, 'histories that no longer replay (an unsafe change? see README, "Changing a running saga type safely")').toEqual([]);
    expect(report.replayed).toBe(corpus.length);
    console.log(`bundled in ${started - bundling} ms; replayed ${report.replayed} histories in ${Date.now() - started} ms`);
  });

  it('holds histories of every workflow type src/workflows exports', () => {
    const exported = Object.entries(workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    expect(exported.length).toBeGreaterThan(10);
    const covered = new Set(corpus.map((h) => h.startedType));
    expect(exported.filter((type) => !covered.has(type)), 'workflow types without histories: npm run histories').toEqual([]);
    expect(Object.keys(REQUIRED_PATHS).sort()).toEqual(exported);
  });

  it('holds every named path, each file the workflow type of its directory', () => {
    for (const h of corpus) expect(h.startedType, h.label).toBe(h.entry.workflowType);
    for (const h of corpus) expect(h.label.startsWith(`${h.entry.workflowType}/${h.entry.path}`), h.label).toBe(true);
    const have = new Set(corpus.map((h) => `${h.entry.workflowType}/${h.entry.path}`));
    const missing = Object.entries(REQUIRED_PATHS).flatMap(([type, paths]) => paths.map((p) => `${type}/${p}`)).filter((p) => !have.has(p));
    expect(missing, 'paths missing from the corpus').toEqual([]);
    for (const [path, status] of Object.entries(REQUIRED_ENDS)) {
      for (const h of corpus.filter((x) => `${x.entry.workflowType}/${x.entry.path}` === path)) expect(h.entry.status, h.label).toBe(status);
    }
  });
});
