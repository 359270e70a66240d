/**
 * Decisions in bursts: approving every saga awaiting approval that a filter selects, a bounded
 * number at a time, never stopping at a refusal. What `unwind approve --all-waiting` sends.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { ApprovalDecisionInput, type ApprovalRecord } from '../schemas/saga';
import { boundedMap } from './bounded-map';
import { OperatorActionRefusedError, parseRequest } from './errors';
import { sagaHandle } from './handle';
import { SagaListFilter, type SagaSummary, quote, sagaListQuery, visibilityPages } from './list';
import { collectSagas } from './visibility';

/** Which sagas awaiting approval {@link SagaApi.approveAll} decides; every field optional, all given must match. */
export const ApprovalBurstFilter = z.strictObject({
  /** Only sagas of this type (`UnwindSaga`), e.g. `sledReplace`. */
  saga: SagaListFilter.shape.saga,
  /** Only approvals asked by this step (`UnwindStep`), e.g. `approve-power-off`. */
  step: z.string().trim().min(1, 'must name a step').max(200).optional(),
  /** At most this many sagas (oldest first); 10000 unless told. */
  limit: z.int().min(1).max(10_000).default(10_000),
});
/** See {@link ApprovalBurstFilter}. */
export type ApprovalBurstFilter = z.input<typeof ApprovalBurstFilter>;

/** The decision {@link SagaApi.approveAll} sends each saga: who approves and why (each saga's own pending approval is decided). */
export const ApprovalBurstDecision = ApprovalDecisionInput.omit({ waitId: true, step: true }).strict();
/** See {@link ApprovalBurstDecision}. */
export type ApprovalBurstDecision = z.input<typeof ApprovalBurstDecision>;

/** How a burst runs: `concurrency` decisions in flight at once (50 unless told). */
export const ApprovalBurstSettings = z.strictObject({ concurrency: z.int().min(1).max(500).default(50) });

/** What became of one saga of a burst. */
export type ApprovalBurstOutcome =
  | { workflowId: string; saga: string; step: string | null; outcome: 'approved'; record: ApprovalRecord }
  /** The saga refused (nothing recorded): `reason` in its own words (not an approver, no longer pending, finished). */
  | { workflowId: string; saga: string; step: string | null; outcome: 'refused'; reason: string }
  /** The decision could not be sent or its outcome not learnt (timeout, connection): `reason` says what failed. */
  | { workflowId: string; saga: string; step: string | null; outcome: 'failed'; reason: string };

/** Counts of a burst so far, given to `onProgress` after each saga. */
export interface ApprovalBurstProgress {
  total: number;
  done: number;
  approved: number;
  refused: number;
  failed: number;
  /** The saga just decided. */
  last: ApprovalBurstOutcome;
}

/** Options of {@link SagaApi.approveAll} and {@link SagaApi.approveEach}. */
export interface ApprovalBurstOptions {
  /** Decisions in flight at once: 1 to 500, 50 unless told. */
  concurrency?: number;
  /** Called after each saga, in the order they finish. */
  onProgress?: (progress: ApprovalBurstProgress) => void;
}

/** The outcome of a burst: one entry per saga, in the order given (or listed). */
export interface ApprovalBurstResult {
  outcomes: ApprovalBurstOutcome[];
  approved: number;
  refused: number;
  failed: number;
}

/** The visibility query of the sagas a burst decides: awaiting approval, of `saga`, at `step`. */
export function approvalBurstQuery(filter: ApprovalBurstFilter = {}): string {
  const f = parseRequest(ApprovalBurstFilter, filter, 'sagas.approveAll');
  const query = sagaListQuery({ state: 'awaiting-approval', ...(f.saga !== undefined && { saga: f.saga }) });
  return f.step === undefined ? query : `${query} AND UnwindStep = ${quote(f.step)}`;
}

/** The sagas awaiting approval a burst decides, oldest first: see {@link SagaApi.awaitingApproval}. */
export async function awaitingApproval(temporal: Client, filter: ApprovalBurstFilter = {}): Promise<SagaSummary[]> {
  const { limit } = parseRequest(ApprovalBurstFilter, filter, 'sagas.approveAll');
  const rows = await collectSagas(visibilityPages(temporal), approvalBurstQuery(filter), limit);
  // Oldest first: the sagas that waited longest are decided first.
  return rows.sort((a, b) => a.startTime.localeCompare(b.startTime));
}

/**
 * Approves, as `decision.approver`, each saga of `listed`: see {@link SagaApi.approveEach}.
 * @throws InvalidRequestError for a bad decision or concurrency (nothing is sent).
 */
export async function approveEach(
  temporal: Client,
  listed: readonly Pick<SagaSummary, 'workflowId' | 'saga' | 'step'>[],
  decision: ApprovalBurstDecision,
  options: ApprovalBurstOptions = {},
): Promise<ApprovalBurstResult> {
  const sent = parseRequest(ApprovalBurstDecision, decision, 'sagas.approveAll');
  const { concurrency } = parseRequest(ApprovalBurstSettings, { concurrency: options.concurrency }, 'sagas.approveAll');
  const tally = { total: listed.length, done: 0, approved: 0, refused: 0, failed: 0 };
  const outcomes = await boundedMap(listed, concurrency, async ({ workflowId, saga, step }): Promise<ApprovalBurstOutcome> => {
    let outcome: ApprovalBurstOutcome;
    try {
      // Named by the listed step: one update per saga, no status read first.
      const record = await sagaHandle(temporal, workflowId, true).approve({ ...sent, ...(step !== null && { step }) });
      outcome = { workflowId, saga, step, outcome: 'approved', record };
    } catch (error) {
      outcome =
        error instanceof OperatorActionRefusedError
          ? { workflowId, saga, step, outcome: 'refused', reason: error.reason }
          : error instanceof WorkflowNotFoundError
            ? { workflowId, saga, step, outcome: 'refused', reason: 'no such saga (deleted since it was listed)' }
            : { workflowId, saga, step, outcome: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
    tally.done++;
    tally[outcome.outcome]++;
    try {
      options.onProgress?.({ ...tally, last: outcome });
    } catch {
      // A progress display that throws does not stop the burst.
    }
    return outcome;
  });
  return { outcomes, approved: tally.approved, refused: tally.refused, failed: tally.failed };
}
