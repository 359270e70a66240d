/**
 * The saga list filter of the client's API, checked by its schema, and the visibility query it
 * becomes. The query and the rows read back are in visibility.ts (no zod there: `unwind list`
 * checks its flags itself and loads that module alone).
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { SagaState } from '../schemas/saga';
import { parseRequest } from './errors';
import { type FetchVisibilityPage, SAGA_TYPE_EXPECTED, SAGA_TYPE_PATTERN, checkedSagaListQuery } from './visibility';

export { LIVE_SAGA_STATES } from '../schemas/saga-states';
export { type ExecutionStatus, type SagaSummary, finishedState, quote, sagaState, sagaStateClause, summarize } from './visibility';

/** Filter of {@link SagaApi.list}; every field optional, all given fields must match. */
export const SagaListFilter = z.strictObject({
  /** Only sagas in this state (see {@link sagaStateClause} for what each state matches). */
  state: SagaState.optional(),
  /** Only sagas of this type (`UnwindSaga`), e.g. `instanceCreate`. */
  saga: z.string().regex(SAGA_TYPE_PATTERN, `expected ${SAGA_TYPE_EXPECTED}`).optional(),
  /** Only running sagas that made no progress for this many milliseconds (`UnwindProgressAt`). */
  stalledFor: z.number().int().positive().optional(),
  /** Only sagas whose last state change or progress (`UnwindProgressAt`) is after this time: what a window shows. */
  changedSince: z.union([z.date(), z.iso.datetime({ offset: true }).transform((t) => new Date(t))]).optional(),
  /** At most this many rows (newest first); 100 unless told. */
  limit: z.int().min(1).max(10_000).default(100),
});
/** See {@link SagaListFilter}. */
export type SagaListFilter = z.input<typeof SagaListFilter>;

/**
 * The visibility query of a {@link SagaListFilter}, e.g.
 * `UnwindSaga IS NOT NULL AND UnwindState = 'needs-operator' AND ExecutionStatus = 'Running'`.
 * See {@link sagaStateClause} for what each state matches.
 * @param now the clock `stalledFor` counts back from.
 * @throws InvalidRequestError naming every bad field.
 */
export function sagaListQuery(filter: SagaListFilter = {}, now: Date = new Date()): string {
  return checkedSagaListQuery(parseRequest(SagaListFilter, filter, 'sagas.list'), now);
}

/** ListWorkflowExecutions through the client's connection, in its namespace. */
export function visibilityPages(temporal: Client): FetchVisibilityPage {
  return async (request) => {
    const page = await temporal.workflowService.listWorkflowExecutions({ namespace: temporal.options.namespace, ...request });
    return { executions: page.executions ?? [], nextPageToken: page.nextPageToken };
  };
}
