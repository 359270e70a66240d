/**
 * What the console knows of one saga, read through the typed client as `unwind show` reads it:
 * visibility's row (no worker needed), the status query (bounded in time: a worker must
 * answer), the outcome of a closed saga (its final failure's details), and who must act now.
 */
import { type SagaSummary, SagaCancelledError, SagaUnwoundError, type UnwindClient } from '../client';
import { settled } from '../cli/sagas';
import type { PendingApproval, SagaStatus, SagaUnwoundDetails, WaitingFor } from '../schemas/saga';
import { type PersonAsk, personAsks } from '../cli/views/registry';

/** How long a page waits for the status query or a closed saga's result. */
export const STATUS_TIMEOUT_MS = 5_000;

/** How a closed saga ended, as its result says. */
export type SagaOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'unwound'; details: SagaUnwoundDetails }
  | { kind: 'cancelled'; details: SagaUnwoundDetails | null }
  | { kind: 'failed'; message: string };

/** One saga as its page shows it. */
export interface SagaView {
  summary: SagaSummary;
  /** `null` when no worker answered in time (`statusError` says why). */
  status: SagaStatus | null;
  statusError?: string;
  /** How it ended; `null` while it runs or when the result could not be read in time. */
  outcome: SagaOutcome | null;
}

/** Somebody a saga waits on, and for what. */
export type Ask =
  | { kind: 'operator'; wait: WaitingFor }
  | { kind: 'approval'; approval: PendingApproval }
  /** Somebody the saga's type waits on (src/cli/views/registry.ts), e.g. a technician. */
  | { kind: 'person'; ask: PersonAsk };

/** Who must act on the saga now: each waiting step, the pending approval, whoever its type waits on. */
export function whoMustAct(status: SagaStatus | null): Ask[] {
  if (!status) return [];
  const asks: Ask[] = status.waiting.map((wait) => ({ kind: 'operator', wait }));
  if (status.pendingApproval) asks.push({ kind: 'approval', approval: status.pendingApproval });
  for (const ask of personAsks(status)) asks.push({ kind: 'person', ask });
  return asks;
}

async function statusOf(client: UnwindClient, workflowId: string, summary: SagaSummary): Promise<Pick<SagaView, 'status' | 'statusError'>> {
  const signal = AbortSignal.timeout(STATUS_TIMEOUT_MS);
  try {
    return { status: settled(await client.sagas.handle(workflowId).status({ signal }), summary) };
  } catch (error) {
    if (signal.aborted) return { status: null, statusError: `no worker answered the status query within ${STATUS_TIMEOUT_MS / 1000} s: is a worker running?` };
    return { status: null, statusError: error instanceof Error ? error.message : String(error) };
  }
}

async function outcomeOf(client: UnwindClient, summary: SagaSummary): Promise<SagaOutcome | null> {
  if (summary.closeTime === null) return null;
  const signal = AbortSignal.timeout(STATUS_TIMEOUT_MS);
  try {
    return { kind: 'completed', result: await client.sagas.handle(summary.workflowId).result({ signal }) };
  } catch (error) {
    if (error instanceof SagaUnwoundError) return { kind: 'unwound', details: error.details };
    if (error instanceof SagaCancelledError) return { kind: 'cancelled', details: error.details };
    if (signal.aborted) return null;
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Reads one saga for its page.
 * @throws WorkflowNotFoundError for an unknown id (the page says so).
 */
export async function loadSaga(client: UnwindClient, workflowId: string): Promise<SagaView> {
  const summary = await client.sagas.describe(workflowId);
  const [status, outcome] = await Promise.all([statusOf(client, workflowId, summary), outcomeOf(client, summary)]);
  return { summary, ...status, outcome };
}
