/**
 * A fake subsystem for saga engine tests: applies and reverts keyed effects, fails on script,
 * and records every call. Its activities go through the real activity boundary, so the engine
 * sees exactly the failures production activities produce.
 */
import { Context } from '@temporalio/activity';
import { withBoundaries, type BoundaryOptions, classifiedError } from '../../src/activities/boundary';
import type { FailureClass } from '../../src/schemas/failures';

/** How one scripted call fails: a failure class, a network error, or an unclassified bug. */
export interface ScriptedFailure {
  fail: FailureClass | 'network' | 'bug';
  /** The effect applies before the failure is reported (default: the call fails first). */
  afterEffect?: boolean;
}

/** One activity call as the ledger saw it. */
export interface LedgerCall {
  op: 'apply' | 'revert';
  key: string;
  attempt: number;
  start: number;
  end?: number;
  outcome?: 'ok' | 'failed';
}

type Op = LedgerCall['op'];

/** The fake: keyed effects, scripts of failures and delays, and a call log. */
export class FakeLedger {
  /** Effects in force: idempotency key → resource. */
  readonly applied = new Map<string, string>();
  /** Keys in the order their effect was first applied (a key applied twice would repeat). */
  readonly effects: string[] = [];
  readonly calls: LedgerCall[] = [];
  private readonly scripts = new Map<string, ScriptedFailure[]>();
  private readonly delays = new Map<string, number>();

  /** The next calls of `op` for `key` fail, one scripted failure per call, in order. */
  script(op: Op, key: string, ...failures: ScriptedFailure[]): this {
    this.scripts.set(`${op}:${key}`, [...(this.scripts.get(`${op}:${key}`) ?? []), ...failures]);
    return this;
  }

  /** Every call of `op` for `key` takes `ms` before it acts. */
  delay(op: Op, key: string, ms: number): this {
    this.delays.set(`${op}:${key}`, ms);
    return this;
  }

  /** The calls of `op` under workflow `workflowId`, with step names instead of keys. */
  callsOf(workflowId: string, op?: Op): Array<LedgerCall & { step: string }> {
    return this.calls
      .filter((c) => c.key.startsWith(`${workflowId}/`) && (op === undefined || c.op === op))
      .map((c) => ({ ...c, step: c.key.slice(workflowId.length + 1) }));
  }

  /** Steps of `workflowId` whose effect is still applied: the residue. */
  residue(workflowId: string): string[] {
    return [...this.applied.keys()].filter((k) => k.startsWith(`${workflowId}/`)).map((k) => k.slice(workflowId.length + 1));
  }

  async run<T>(op: Op, key: string, act: () => T): Promise<T> {
    const call: LedgerCall = { op, key, attempt: Context.current().info.attempt, start: Date.now() };
    this.calls.push(call);
    try {
      const ms = this.delays.get(`${op}:${key}`);
      if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
      const failure = this.scripts.get(`${op}:${key}`)?.shift();
      if (failure?.afterEffect) act();
      if (failure) throw failureError(failure, `${op} ${key}`);
      const result = act();
      call.outcome = 'ok';
      return result;
    } catch (err) {
      call.outcome = 'failed';
      throw err;
    } finally {
      call.end = Date.now();
    }
  }
}

function failureError(failure: ScriptedFailure, what: string): Error {
  switch (failure.fail) {
    case 'network':
      return Object.assign(new Error(`read ECONNRESET (${what})`), { code: 'ECONNRESET' });
    case 'bug':
      return new RangeError(`scripted bug in ${what}`);
    default:
      return classifiedError(failure.fail, `scripted ${failure.fail} failure of ${what}`);
  }
}

/** The ledger's activities, wrapped by the real boundary. */
export function createLedgerActivities(ledger: FakeLedger, backoff: BoundaryOptions = { baseMs: 20, capMs: 200 }) {
  return withBoundaries(
    {
      async apply(input: { key: string }): Promise<string> {
        return ledger.run('apply', input.key, () => {
          const existing = ledger.applied.get(input.key);
          if (existing) return existing;
          const resource = `res:${input.key}`;
          ledger.applied.set(input.key, resource);
          ledger.effects.push(input.key);
          return resource;
        });
      },
      async revert(input: { key: string }): Promise<void> {
        await ledger.run('revert', input.key, () => {
          ledger.applied.delete(input.key);
        });
      },
    },
    backoff,
  );
}

/** The activity object the test sagas proxy. */
export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
