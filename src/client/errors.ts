/**
 * The client's errors: each carries the structured fields a caller branches on and builds its
 * message from them. Also the helpers that turn a request or a workflow's failure into them.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { type OperatorAction, SAGA_UNWOUND, SagaUnwoundDetails } from '../schemas/saga';
import { type FieldProblem, describeProblems, fieldProblems } from '../schemas/validation';

/**
 * A request (saga input, list filter or operator decision) failed validation; nothing was
 * started or sent. `problems` names every bad field; the message lists them all.
 */
export class InvalidRequestError extends Error {
  /** What was being asked for, e.g. `instances.create`. */
  readonly request: string;
  /** Every bad field, in input order. */
  readonly problems: readonly FieldProblem[];

  constructor(request: string, problems: readonly FieldProblem[]) {
    super(`${request}: invalid request: ${describeProblems([...problems])}`);
    this.name = 'InvalidRequestError';
    this.request = request;
    this.problems = problems;
  }
}

/** A saga failed and was unwound: the rack is back where it started (minus any `skipped` undos). */
export class SagaUnwoundError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The failed step, its cause, what was undone and what an operator skipped. */
  readonly details: SagaUnwoundDetails;

  constructor(workflowId: string, details: SagaUnwoundDetails, options?: { cause?: unknown }) {
    const at = details.failedStep === null ? '' : ` at ${details.failedStep}`;
    super(`saga ${workflowId} unwound: failed${at}: ${details.cause.type}: ${details.cause.message}`, options);
    this.name = 'SagaUnwoundError';
    this.workflowId = workflowId;
    this.details = details;
  }
}

/**
 * A saga was cancelled (Temporal status `CANCELED`): before its pivot it unwound, a stoppable
 * saga past its pivot stopped. `details` are what it left in its memo (`unwindOutcome`): what
 * was undone and skipped, its last reports; `null` when it left none (e.g. cancelled before a
 * worker ran it).
 */
export class SagaCancelledError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The cancellation (`cause.type` `Cancelled`), what was undone and skipped; `null` when unknown. */
  readonly details: SagaUnwoundDetails | null;

  constructor(workflowId: string, details: SagaUnwoundDetails | null, options?: { cause?: unknown }) {
    const undone = details === null ? '' : `: undone ${details.undone.length ? details.undone.join(', ') : 'nothing'}`;
    super(`saga ${workflowId} was cancelled${undone}`, options);
    this.name = 'SagaCancelledError';
    this.workflowId = workflowId;
    this.details = details;
  }
}

/** One field a repeated request changed: its dotted path, the first request's value and this one's. */
export interface FieldDifference {
  field: string;
  before: unknown;
  now: unknown;
}

/**
 * The request id was used before with other parameters: the saga it started (`workflowId`)
 * stands, and nothing was started. Make the same request again, or a new one with a new
 * request id.
 */
export class RequestConflictError extends Error {
  /** What was being asked for, e.g. `instances.create`. */
  readonly request: string;
  /** The request id both requests carried. */
  readonly requestId: string;
  /** The saga the first request started. */
  readonly workflowId: string;
  /** The fields that differ (dotted paths), e.g. `['cpus', 'approval.expireAfter']`. */
  readonly fields: readonly string[];
  /** Each differing field with the first request's value and this one's. */
  readonly differences: readonly FieldDifference[];

  constructor(request: string, requestId: string, workflowId: string, differences: readonly FieldDifference[]) {
    const text = differences.map((d) => `${d.field} was ${shown(d.before)}, now ${shown(d.now)}`).join('; ');
    super(
      `${request}: request ${requestId} was made before with other parameters (${text}): it started saga ${workflowId}; ` +
        'nothing was started: repeat it unchanged, or make a new request with a new request id',
    );
    this.name = 'RequestConflictError';
    this.request = request;
    this.requestId = requestId;
    this.workflowId = workflowId;
    this.fields = differences.map((d) => d.field);
    this.differences = differences;
  }
}

/** A running saga a start conflicts with. */
export interface RunningSaga {
  workflowId: string;
  /** Its saga type, e.g. `instanceDelete`. */
  saga: string;
  /** The request that started it (its memo), `null` when it has none (e.g. a saga's child). */
  requestId: string | null;
  /** ISO time it started. */
  startTime: string;
}

/**
 * A saga that must not run alongside the one asked for runs on the same object (another create
 * of the name, a migrate or delete of the instance, a replacement of the sled): nothing was
 * started. `running` names it; make the request again once it has ended.
 */
export class SagaConflictError extends Error {
  /** What was being asked for, e.g. `instances.migrate`. */
  readonly request: string;
  /** The object both sagas work on, e.g. `instance 4f0c…` or `instance name web-1`. */
  readonly object: string;
  /** The saga running on it. */
  readonly running: RunningSaga;

  constructor(request: string, object: string, running: RunningSaga) {
    const by = running.requestId === null ? '' : ` (request ${running.requestId})`;
    super(
      `${request}: refused: saga ${running.saga} ${running.workflowId}${by} is running on ${object} since ${running.startTime}; ` +
        'nothing was started: make the request again once it has ended',
    );
    this.name = 'SagaConflictError';
    this.request = request;
    this.object = object;
    this.running = running;
  }
}

/** A value as a refusal shows it: JSON, `unset` for a missing one. */
function shown(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

/** What a person can ask of a saga: an operator decision, an approval, or reporting new hardware. */
export type SagaAction = OperatorAction | 'approve' | 'reject' | 'hardwareReplaced';

/**
 * The saga refused an operator action (its update validator said no): e.g. `retry` while no
 * step waits, `unwind` after the pivot, `approve` by someone not listed, a decision for a wait
 * that has ended (`waitId`), `hardwareReplaced` while no hardware is awaited, or any action once
 * the saga finished. Also raised by the client before sending, when it fills in the wait and
 * there is none, or several and none was named. Nothing was recorded.
 */
export class OperatorActionRefusedError extends Error {
  /** The saga's workflow id. */
  readonly workflowId: string;
  /** The refused action. */
  readonly action: SagaAction;
  /** Why the saga refused, in its own words. */
  readonly reason: string;

  constructor(workflowId: string, action: SagaAction, reason: string, options?: { cause?: unknown }) {
    super(`saga ${workflowId} refused ${action}: ${reason}`, options);
    this.name = 'OperatorActionRefusedError';
    this.workflowId = workflowId;
    this.action = action;
    this.reason = reason;
  }
}

/**
 * If `error` is an unwound saga's final failure (as `result()` throws it, or its cause), the
 * failure's details; otherwise `undefined`.
 */
export function sagaUnwoundDetailsOf(error: unknown): SagaUnwoundDetails | undefined {
  const failure = error instanceof WorkflowFailedError ? error.cause : error;
  if (!(failure instanceof ApplicationFailure) || failure.type !== SAGA_UNWOUND) return undefined;
  const parsed = SagaUnwoundDetails.safeParse(failure.details?.[0]);
  return parsed.success ? parsed.data : undefined;
}

/** True when `error` is a workflow's cancellation, as `handle.result()` throws it. */
export function isCancelled(error: unknown): boolean {
  return error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure;
}

/** Parses a request with its schema. @throws InvalidRequestError naming every bad field of `request`. */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, request: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new InvalidRequestError(request, fieldProblems(result.error));
  return result.data;
}
