/**
 * The saga views by saga type: what the generic saga view (`unwind show`, the console's saga
 * page) asks for a saga's own fields and the people it waits on. A saga type with reports of
 * its own adds its view here; a type without one shows only what every saga shows.
 */
import type { SagaStatus } from '../../schemas/saga';
import { firmwareRolloutView } from './firmware-rollout';
import type { PersonAsk, ReportField, SagaTypeView } from './saga-type-view';
import { sledReplaceView } from './sled-replace';

export type { PersonAsk, ReportField } from './saga-type-view';

const VIEWS: ReadonlyMap<string, SagaTypeView> = new Map([sledReplaceView, firmwareRolloutView].map((view) => [view.sagaType, view]));

/** The header fields a saga's type draws from its reports; none for a type without a view. */
export function reportFields(status: SagaStatus, now: Date): ReportField[] {
  return VIEWS.get(status.sagaType)?.fields(status, now) ?? [];
}

/** The people a saga waits on now besides operators and approvers, as its type says. */
export function personAsks(status: SagaStatus): PersonAsk[] {
  return VIEWS.get(status.sagaType)?.asks?.(status) ?? [];
}
