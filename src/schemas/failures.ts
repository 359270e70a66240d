/**
 * The failure taxonomy of DESIGN.md ("Failure taxonomy") as `ApplicationFailure` types.
 *
 * Activities classify every error once, at their boundary (`src/activities/boundary.ts`), and
 * throw an `ApplicationFailure` whose `type` is one of {@link FailureType}. Workflow code never
 * parses messages: it asks the predicates below, which walk the cause chain
 * (`ActivityFailure` → `ApplicationFailure` → …).
 *
 * Pure definitions only: imported by activities and by the workflow bundle alike.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';

/** The `ApplicationFailure` type an unwound saga ends with (details: `SagaUnwoundDetails`). */
export const SAGA_UNWOUND = 'SagaUnwound';

/** The four failure classes an activity reports, as `ApplicationFailure` types. */
export const FailureType = {
  /** Retryable: connection reset, 503, timeout. Delay = full-jitter capped exponential backoff. */
  Transient: 'Transient',
  /** Non-retryable: the subsystem said no (no capacity, invalid request). A saga unwinds. */
  Refused: 'Refused',
  /** Non-retryable: a known persistent condition a person must resolve. A saga pauses. */
  NeedsOperator: 'NeedsOperator',
  /** Non-retryable: the observed state is neither the before nor the after. A saga pauses. */
  UnknownState: 'UnknownState',
} as const;
/** One of the {@link FailureType} values. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/**
 * The same classes as lower-case names: the `class` property a classified error carries (the
 * contract between the rack client and the activity boundary).
 */
export const FailureClass = z.enum(['transient', 'refused', 'needs-operator', 'unknown-state']);
/** One of `'transient' | 'refused' | 'needs-operator' | 'unknown-state'`. */
export type FailureClass = z.infer<typeof FailureClass>;

/** The `ApplicationFailure` type each {@link FailureClass} is reported as. */
export const failureTypeOfClass: Readonly<Record<FailureClass, FailureType>> = {
  transient: FailureType.Transient,
  refused: FailureType.Refused,
  'needs-operator': FailureType.NeedsOperator,
  'unknown-state': FailureType.UnknownState,
};

/** The {@link FailureClass} of a taxonomy `ApplicationFailure` type, or `undefined` for any other type. */
export function failureClassOfType(type: string | null | undefined): FailureClass | undefined {
  const entry = Object.entries(failureTypeOfClass).find(([, t]) => t === type);
  return entry ? (entry[0] as FailureClass) : undefined;
}

/** `ApplicationFailure` types the saga engine itself raises. */
export const SagaFailureType = {
  /** The saga failed and was unwound; details: `SagaUnwoundDetails` (src/schemas/saga.ts). */
  SagaUnwound: SAGA_UNWOUND,
  /** A step failed in a way that unwinds the saga; the cause is the step's failure. */
  StepFailed: 'SagaStepFailed',
  /**
   * A step was not started because the saga will not go on: a sibling in its parallel group
   * failed, the saga is unwinding, or a cancellation stops it.
   */
  StepNotStarted: 'SagaStepNotStarted',
  /** The saga's code misuses the engine (duplicate step name, undo after the pivot, …). */
  InvalidSaga: 'InvalidSaga',
  /** The `unwindFaults` memo does not match `SagaFaults` (src/schemas/faults.ts). */
  InvalidFaults: 'InvalidFaults',
  /** An operator action the saga cannot take now (update validators). */
  InvalidOperatorAction: 'InvalidOperatorAction',
  /** An approval was rejected, or expired into `reject`: the saga unwinds. */
  ApprovalRejected: 'ApprovalRejected',
} as const;
/** One of the {@link SagaFailureType} values. */
export type SagaFailureType = (typeof SagaFailureType)[keyof typeof SagaFailureType];

/** Every error of a cause chain, outermost first (bounded, in case of a cycle). */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < 32 && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/** The outermost `ApplicationFailure` of the chain whose `type` satisfies `match`. */
export function findApplicationFailure(
  err: unknown,
  match: (type: string | null | undefined) => boolean = () => true,
): ApplicationFailure | undefined {
  return causeChain(err).find((e): e is ApplicationFailure => e instanceof ApplicationFailure && match(e.type));
}

/** True when some `ApplicationFailure` in the cause chain has this `type`. */
export function hasFailureType(err: unknown, type: string): boolean {
  return findApplicationFailure(err, (t) => t === type) !== undefined;
}

/** The taxonomy class found in the cause chain (outermost first), if any. */
export function failureClassOf(err: unknown): FailureClass | undefined {
  return failureClassOfType(findApplicationFailure(err, (t) => failureClassOfType(t) !== undefined)?.type);
}

/** True when the cause chain holds a {@link FailureType.Transient} failure (e.g. retries exhausted). */
export const isTransient = (err: unknown): boolean => hasFailureType(err, FailureType.Transient);
/** True when the cause chain holds a {@link FailureType.Refused} failure. */
export const isRefused = (err: unknown): boolean => hasFailureType(err, FailureType.Refused);
/** True when the cause chain holds a {@link FailureType.NeedsOperator} failure. */
export const isNeedsOperator = (err: unknown): boolean => hasFailureType(err, FailureType.NeedsOperator);
/** True when the cause chain holds a {@link FailureType.UnknownState} failure. */
export const isUnknownState = (err: unknown): boolean => hasFailureType(err, FailureType.UnknownState);
/** True when the error is (or wraps) a saga's final `SagaUnwound` failure. */
export const isSagaUnwound = (err: unknown): boolean => hasFailureType(err, SagaFailureType.SagaUnwound);
