/**
 * The worker's cache settings: defaults chosen on purpose, each variable validated with a
 * message naming it and what it expects, and a bad value stopping the worker before it connects.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_TUNING_DEFAULTS, WorkerTuningError, workerTuning } from '../src/temporal/worker-config';

describe('workerTuning', () => {
  it('defaults to a bounded cache', () => {
    expect(workerTuning({})).toEqual({ ...WORKER_TUNING_DEFAULTS });
    expect(WORKER_TUNING_DEFAULTS.maxCachedWorkflows).toBeLessThanOrEqual(600);
    expect(WORKER_TUNING_DEFAULTS.maxConcurrentWorkflowTaskExecutions).toBeLessThanOrEqual(WORKER_TUNING_DEFAULTS.maxCachedWorkflows);
    expect(workerTuning({ UNWIND_MAX_CACHED_WORKFLOWS: '', UNWIND_STICKY_TIMEOUT: ' ' })).toEqual({ ...WORKER_TUNING_DEFAULTS });
  });

  it('reads each variable', () => {
    expect(
      workerTuning({
        UNWIND_MAX_CACHED_WORKFLOWS: '200',
        UNWIND_REUSE_V8_CONTEXT: 'FALSE',
        UNWIND_STICKY_TIMEOUT: '2m',
        UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS: '20',
      }),
    ).toEqual({ maxCachedWorkflows: 200, reuseV8Context: false, stickyQueueScheduleToStartTimeout: '120000ms', maxConcurrentWorkflowTaskExecutions: 20 });
    expect(workerTuning({ UNWIND_STICKY_TIMEOUT: '1500ms' }).stickyQueueScheduleToStartTimeout).toBe('1500ms');
    // No cache: every task replays; tasks at once keep their default.
    expect(workerTuning({ UNWIND_MAX_CACHED_WORKFLOWS: '0' })).toMatchObject({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 40 });
    // A cache smaller than the default tasks at once lowers them to the cache.
    expect(workerTuning({ UNWIND_MAX_CACHED_WORKFLOWS: '10' }).maxConcurrentWorkflowTaskExecutions).toBe(10);
  });

  it.each([
    ['UNWIND_MAX_CACHED_WORKFLOWS', 'lots', /UNWIND_MAX_CACHED_WORKFLOWS="lots" is not valid: expected a whole number from 0 to 100000/],
    ['UNWIND_MAX_CACHED_WORKFLOWS', '-5', /UNWIND_MAX_CACHED_WORKFLOWS="-5" is not valid/],
    ['UNWIND_MAX_CACHED_WORKFLOWS', '2.5', /UNWIND_MAX_CACHED_WORKFLOWS="2.5" is not valid/],
    ['UNWIND_MAX_CACHED_WORKFLOWS', '1', /UNWIND_MAX_CACHED_WORKFLOWS="1" is not valid: expected 0 \(no cache\) or a whole number from 2/],
    ['UNWIND_MAX_CACHED_WORKFLOWS', '1000001', /UNWIND_MAX_CACHED_WORKFLOWS="1000001" is not valid/],
    ['UNWIND_REUSE_V8_CONTEXT', 'yes', /UNWIND_REUSE_V8_CONTEXT="yes" is not valid: expected true or false/],
    ['UNWIND_STICKY_TIMEOUT', '10', /UNWIND_STICKY_TIMEOUT="10" is not valid: expected a duration from 1s to 1h/],
    ['UNWIND_STICKY_TIMEOUT', '100ms', /UNWIND_STICKY_TIMEOUT="100ms" is not valid/],
    ['UNWIND_STICKY_TIMEOUT', '2h', /UNWIND_STICKY_TIMEOUT="2h" is not valid/],
    ['UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS', '1', /UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS="1" is not valid: expected a whole number from 2 to 100/],
  ])('refuses %s=%s, naming it and what it expects', (name, value, message) => {
    expect(() => workerTuning({ [name]: value })).toThrow(WorkerTuningError);
    expect(() => workerTuning({ [name]: value })).toThrow(message);
  });

  it('refuses more tasks at once than the cache holds', () => {
    expect(() => workerTuning({ UNWIND_MAX_CACHED_WORKFLOWS: '50', UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS: '60' })).toThrow(
      'UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS="60" is not valid: expected a whole number from 2 to 50 (workflow tasks at once, at most UNWIND_MAX_CACHED_WORKFLOWS (50)).',
    );
  });

  it('stops the worker before it connects, in one line naming the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'src', 'worker.ts')], {
      env: { ...process.env, UNWIND_MAX_CACHED_WORKFLOWS: 'many', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('unwind worker: UNWIND_MAX_CACHED_WORKFLOWS="many" is not valid: expected a whole number from 0 to 100000 (0 turns the cache off; otherwise at least 2).');
  });
});
