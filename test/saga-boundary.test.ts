import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifiedError, classify, fullJitterDelay, withBoundaries, withBoundary } from '../src/activities/boundary';
import { createOperatorActivities } from '../src/activities/notify-operator';
import { isNeedsOperator, isRefused, isSagaUnwound, isTransient, isUnknownState, failureClassOf } from '../src/schemas/failures';
import { repeatCount, SagaFaults } from '../src/schemas/faults';
import type { OperatorNotification } from '../src/schemas/saga';

const withCode = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.7:8080`), { code });

describe('classify', () => {
  it('takes the class an error states, outermost first', () => {
    expect(classify(classifiedError('refused', 'no capacity'))).toBe('refused');
    expect(classify(classifiedError('needs-operator', 'mirror degraded'))).toBe('needs-operator');
    const wrapped = new Error('ensureRegion failed', { cause: classifiedError('unknown-state', 'region half-created') });
    expect(classify(wrapped)).toBe('unknown-state');
    expect(classify(ApplicationFailure.create({ type: 'Refused', message: 'no' }))).toBe('refused');
  });

  it('treats network errors as transient, wherever they are in the cause chain', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'UND_ERR_SOCKET']) expect(classify(withCode(code))).toBe('transient');
    expect(classify(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe('transient');
    expect(classify(new TypeError('fetch failed'))).toBe('transient');
    expect(classify(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('transient');
    expect(classify(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe('transient');
  });

  it('refuses invalid input (a ZodError) and treats anything unknown as unknown-state', () => {
    const zodError = z.object({ key: z.string() }).safeParse({}).error;
    expect(classify(zodError)).toBe('refused');
    expect(classify(new RangeError('index out of range'))).toBe('unknown-state');
    expect(classify(new TypeError('x is not a function'))).toBe('unknown-state');
    expect(classify('a string')).toBe('unknown-state');
    expect(classify(Object.assign(new Error('weird'), { class: 'flaky' }))).toBe('unknown-state');
  });
});

describe('fullJitterDelay', () => {
  it('is random(0, min(cap, base * 2^(attempt-1)))', () => {
    const max = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => fullJitterDelay(a, { baseMs: 1_000, capMs: 60_000, random: max }))).toEqual([
      999, 1_999, 3_999, 7_999, 15_999, 31_999, 59_999, 59_999,
    ]);
    expect(fullJitterDelay(3, { baseMs: 1_000, capMs: 60_000, random: () => 0.5 })).toBe(2_000);
    expect(fullJitterDelay(10_000, { random: max })).toBe(59_999); // default cap, no overflow
  });

  it('never returns 0 and spreads delays over the whole window', () => {
    expect(fullJitterDelay(1, { random: () => 0 })).toBe(1);
    const samples = Array.from({ length: 500 }, () => fullJitterDelay(4, { baseMs: 100, capMs: 10_000 }));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...samples)).toBeLessThan(800);
    expect(Math.min(...samples)).toBeLessThan(200);
    expect(Math.max(...samples)).toBeGreaterThan(600);
  });
});

describe('withBoundary', () => {
  async function thrownBy(attempt: number, err: unknown): Promise<ApplicationFailure> {
    const fn = withBoundary(
      async () => {
        throw err;
      },
      { baseMs: 1_000, capMs: 5_000, random: () => 0.5 },
    );
    const thrown = await new MockActivityEnvironment({ attempt }).run(fn).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    return thrown as ApplicationFailure;
  }

  it('throws transient failures as retryable, with a jittered capped delay from the attempt number', async () => {
    const first = await thrownBy(1, withCode('ECONNRESET'));
    expect(first).toMatchObject({ type: 'Transient', nonRetryable: false, nextRetryDelay: 500 });
    expect(first.cause?.message).toMatch(/ECONNRESET/);
    expect((await thrownBy(3, withCode('ECONNRESET'))).nextRetryDelay).toBe(2_000);
    expect((await thrownBy(9, withCode('ECONNRESET'))).nextRetryDelay).toBe(2_500);
  });

  it('throws the other classes as non-retryable, without a delay', async () => {
    expect(await thrownBy(1, classifiedError('refused', 'no capacity'))).toMatchObject({ type: 'Refused', nonRetryable: true, message: 'no capacity' });
    expect(await thrownBy(1, classifiedError('needs-operator', 'sled offline'))).toMatchObject({ type: 'NeedsOperator', nonRetryable: true });
    const unknown = await thrownBy(2, new RangeError('bug'));
    expect(unknown).toMatchObject({ type: 'UnknownState', nonRetryable: true });
    expect(unknown.nextRetryDelay).toBeUndefined();
  });

  it('passes cancellations and deliberate ApplicationFailures of other types through', async () => {
    const own = ApplicationFailure.create({ type: 'QuotaExceeded', nonRetryable: true, message: 'quota' });
    const fn = withBoundary(async (e: Error) => {
      throw e;
    });
    await expect(fn(own)).rejects.toBe(own);
    const cancelled = new CancelledFailure('cancelled');
    await expect(fn(cancelled)).rejects.toBe(cancelled);
  });

  it('wraps every activity of an object and keeps results and names', async () => {
    const activities = withBoundaries({
      async ok(n: number) {
        return n + 1;
      },
      async refused() {
        throw classifiedError('refused', 'no');
      },
    });
    expect(await activities.ok(1)).toBe(2);
    expect(activities.ok.name).toBe('ok');
    await expect(activities.refused()).rejects.toMatchObject({ type: 'Refused' });
  });
});

describe('notifyOperator activity', () => {
  const notification: OperatorNotification = {
    sagaType: 'diskCreate',
    workflowId: 'disk-1',
    state: 'stuck',
    step: 'ensure-region[1]',
    actions: ['retry', 'skip'],
    error: { type: 'Refused', message: 'region is busy' },
    at: '2030-01-01T00:00:00.000Z',
  };

  it('hands a valid notification to the sink', async () => {
    const seen: OperatorNotification[] = [];
    const { notifyOperator } = createOperatorActivities({ sink: (n) => void seen.push(n) });
    await new MockActivityEnvironment().run(notifyOperator, notification);
    expect(seen).toEqual([notification]);
  });

  it('refuses a malformed notification and reports a failing sink as classified', async () => {
    const { notifyOperator } = createOperatorActivities({
      sink: () => {
        throw withCode('ECONNREFUSED');
      },
    });
    await expect(notifyOperator({ ...notification, state: 'sad' } as unknown as OperatorNotification)).rejects.toMatchObject({ type: 'Refused' });
    await expect(notifyOperator(notification)).rejects.toMatchObject({ type: 'Transient' });
  });
});

describe('failure predicates', () => {
  const activityFailure = (type: string) =>
    new ActivityFailure('activity failed', 'apply', 'id-1', RetryState.NON_RETRYABLE_FAILURE, undefined, ApplicationFailure.create({ type, message: type }));

  it('find the taxonomy type through the cause chain', () => {
    expect(isRefused(activityFailure('Refused'))).toBe(true);
    expect(isNeedsOperator(activityFailure('NeedsOperator'))).toBe(true);
    expect(isUnknownState(activityFailure('UnknownState'))).toBe(true);
    expect(isTransient(activityFailure('Transient'))).toBe(true);
    expect(isRefused(activityFailure('Transient'))).toBe(false);
    expect(isRefused(new Error('Refused'))).toBe(false); // messages are never parsed
    expect(failureClassOf(activityFailure('NeedsOperator'))).toBe('needs-operator');
    expect(isSagaUnwound(ApplicationFailure.create({ type: 'SagaUnwound' }))).toBe(true);
  });
});

describe('SagaFaults', () => {
  it("defaults failWhen to 'after', resolves repeat counts with '*', and rejects unknown keys", () => {
    const faults = SagaFaults.parse({ failStep: 'b', repeatActions: { '*': 2, c: 3 } });
    expect(faults.failWhen).toBe('after');
    expect([repeatCount(faults.repeatActions, 'a'), repeatCount(faults.repeatActions, 'c'), repeatCount(undefined, 'a')]).toEqual([2, 3, 1]);
    expect(SagaFaults.safeParse({ failstep: 'b' }).success).toBe(false);
    expect(SagaFaults.safeParse({ repeatUndos: { a: 0 } }).success).toBe(false);
  });
});
