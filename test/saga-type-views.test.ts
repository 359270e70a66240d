/**
 * Saga views by type: reports typed by one schema for the workflow that writes them and the
 * views that read them (`defineReport`), and the generic saga view drawing each type's fields
 * and asks from the registry, an unreadable report shown as such.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { renderReports, renderSagaView } from '../src/cli/saga-view';
import { whoMustAct } from '../src/console/saga-data';
import { firmwareReport } from '../src/schemas/firmware-reports';
import { defineReport } from '../src/schemas/report';
import type { SagaStatus, StepStatus } from '../src/schemas/saga';
import { evacuationReport, hardwareReport } from '../src/schemas/sled-reports';
import type { Saga } from '../src/workflows/saga';

const now = new Date('2026-03-01T12:00:00.000Z');
const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

function step(name: string, state: StepStatus['state']): StepStatus {
  return {
    name,
    group: null,
    branch: [],
    undoable: false,
    afterPivot: true,
    state,
    attempts: 1,
    undoAttempts: 0,
    lastError: null,
    startedAt: at(90),
    finishedAt: state === 'running' ? null : at(80),
    undoStartedAt: null,
    undoFinishedAt: null,
  };
}

function status(sagaType: string, reports: Record<string, unknown>, steps: StepStatus[] = []): SagaStatus {
  return {
    sagaType,
    workflowId: `${sagaType}/x-1`,
    state: 'running',
    pivoted: true,
    waitingFor: null,
    waiting: [],
    steps,
    decisions: [],
    pendingApproval: null,
    approvals: [],
    reports,
    cancelRequested: null,
  };
}

const evacuation = { total: 3, migrated: ['i-1'], inProgress: ['i-2'], failed: [{ instanceId: 'i-3', error: 'no room' }], attempts: [] };
const waitingForTom = { waitingFor: ['tom', 'tina'], since: at(30), reports: [] };

describe('defineReport', () => {
  const progress = defineReport('progress', z.object({ done: z.int(), of: z.int() }));

  it('reads a status through the schema its writer uses: absent, read, or unreadable with why', () => {
    expect(progress.inspect({ reports: {} })).toEqual({ kind: 'absent' });
    expect(progress.inspect({})).toEqual({ kind: 'absent' });
    expect(progress.read({ reports: { progress: { done: 2, of: 5 } } })).toEqual({ done: 2, of: 5 });
    const bad = progress.inspect({ reports: { progress: { done: 'two', of: 5 } } });
    expect(bad).toMatchObject({ kind: 'unreadable', problem: expect.stringMatching(/^done: .*expected number/) });
    expect(progress.read({ reports: { progress: 'half' } })).toBeUndefined();
  });

  it('writes under its name, and the compiler refuses a value its schema does not take', () => {
    const reports: Record<string, unknown> = {};
    const saga = { report: (report, value) => report.write(reports, value) } as Pick<Saga, 'report'>;
    saga.report(progress, { done: 1, of: 4 });
    expect(reports).toEqual({ progress: { done: 1, of: 4 } });
    // @ts-expect-error `done` is a number in the report's schema
    saga.report(progress, { done: '1', of: 4 });
    // @ts-expect-error `of` is missing
    saga.report(progress, { done: 1 });
  });
});

describe('the saga view by saga type', () => {
  it("draws sledReplace's evacuation, rebalance and hardware fields from its typed reports", () => {
    const replaced = { ...waitingForTom, replacedBy: 'tom', serial: 'SN-9', at: at(5), reports: [{ serial: 'SN-9', technician: 'tom', at: at(5), report: 1 }] };
    const done = status('sledReplace', { evacuation, rebalance: { total: 1, migrated: ['i-1'], inProgress: [], failed: [] }, hardware: replaced });
    expect(renderReports(done, { now })).toEqual([
      'evacuate: 1 of 3 instances moved, 1 moving (i-2), 1 failed (i-3: no room)',
      'rebalance: 1 of 1 instance moved',
      'hardware: replaced by tom, serial SN-9, reported 5m ago',
    ]);
  });

  it('says who must swap the hardware, since when and what to run while await-hardware runs, and not after', () => {
    const waiting = status('sledReplace', { hardware: waitingForTom }, [step('power-off', 'succeeded'), step('await-hardware', 'running')]);
    const text = renderSagaView(null, waiting, { now });
    expect(text).toMatch(/waiting:\s+await-hardware: the new hardware, since 30m ago/);
    expect(text).toMatch(/who:\s+tom or tina must swap the hardware and report its serial \(since 30m ago\)/);
    expect(text).toContain('run:      unwind sled hardware-replaced sledReplace/x-1 --serial <serial> --as <technician>');
    expect(whoMustAct(waiting)).toEqual([
      { kind: 'person', ask: expect.objectContaining({ step: 'await-hardware', who: ['tom', 'tina'], action: { name: 'hardwareReplaced', label: 'Report replaced hardware' } }) },
    ]);

    const powered = { ...waiting, steps: [step('power-off', 'succeeded'), step('await-hardware', 'succeeded')] };
    expect(renderSagaView(null, powered, { now })).not.toContain('must swap');
    expect(whoMustAct(powered)).toEqual([]);
  });

  it("draws the firmware rollout's progress from its report", () => {
    const counts = { pending: 3, 'in-progress': 2, done: 4, deferred: 0, blocked: 1, failed: 0 };
    const progress = { phase: 'wave' as const, reason: null, total: 10, counts, waves: 3, ssds: [] };
    expect(firmwareReport.read({ reports: { firmware: progress } })).toEqual(progress);
    expect(renderReports(status('ssdFirmwareRollout', { firmware: progress }), { now })).toEqual([
      'firmware: 4 of 10 SSDs done, 2 in-progress, 3 pending, 1 blocked; wave (waves 3)',
    ]);
  });

  it('shows a malformed report as unreadable, naming what is wrong, and asks nobody from it', () => {
    const broken = status('sledReplace', { evacuation: { ...evacuation, total: 'three' }, hardware: { waitingFor: 'tom', since: at(30) } }, [
      step('await-hardware', 'running'),
    ]);
    expect(evacuationReport.read(broken)).toBeUndefined();
    expect(hardwareReport.read(broken)).toBeUndefined();
    const text = renderSagaView(null, broken, { now });
    expect(text).toMatch(/evacuate:\s+unreadable report "evacuation": total: .*expected number/);
    expect(text).toMatch(/hardware:\s+unreadable report "hardware": waitingFor: .*expected array/);
    expect(text).not.toContain('must swap');
    expect(whoMustAct(broken)).toEqual([]);
  });

  it('cuts an unreadable report with many bad rows short', () => {
    const ssds = Array.from({ length: 500 }, (_, i) => ({ ssdId: `ssd-${i}`, state: 'lost' }));
    const [line] = renderReports(status('ssdFirmwareRollout', { firmware: { phase: 'wave', reason: null, total: 500, counts: {}, waves: 1, ssds } }), { now });
    expect(line).toMatch(/^firmware: unreadable report "firmware": /);
    expect(line!.length).toBeLessThan(260);
  });

  it('gives a saga type without a view no fields of its own, whatever its reports are named', () => {
    const other = status('diskCreate', { evacuation, hardware: waitingForTom }, [step('await-hardware', 'running')]);
    expect(renderReports(other, { now })).toEqual([]);
    expect(renderSagaView(null, other, { now })).not.toMatch(/evacuate|must swap/);
  });
});
