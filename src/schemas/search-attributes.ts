/**
 * The custom search attributes that make sagas listable. Registered on every server unwind
 * starts (dev server, docker-compose) and upserted by the saga engine on state changes.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The saga's type, e.g. `instanceCreate`. */
export const UnwindSaga = defineSearchAttributeKey('UnwindSaga', SearchAttributeType.KEYWORD);
/** The saga's state: see {@link SagaState}. */
export const UnwindState = defineSearchAttributeKey('UnwindState', SearchAttributeType.KEYWORD);
/** The step the saga is at (or stuck on). */
export const UnwindStep = defineSearchAttributeKey('UnwindStep', SearchAttributeType.KEYWORD);
/** When the saga last changed state: `--stalled` finds sagas whose value is old. */
export const UnwindProgressAt = defineSearchAttributeKey('UnwindProgressAt', SearchAttributeType.DATETIME);
/**
 * The type of the failure that unwound the saga or that it waits on (`Refused`,
 * `NeedsOperator`, …), unset otherwise: `unwind errors` groups by it without reading histories.
 */
export const UnwindError = defineSearchAttributeKey('UnwindError', SearchAttributeType.KEYWORD);

/** Every unwind search attribute, for registration. */
export const unwindSearchAttributes = [UnwindSaga, UnwindState, UnwindStep, UnwindProgressAt, UnwindError] as const;

const cliTypeNames: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `--search-attribute` arguments for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return unwindSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeNames[key.type]}`]);
}

// temporal.api.enums.v1.IndexedValueType, as the operator service expects it.
const indexedValueTypes: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

/** `searchAttributes` of the operator service's `addSearchAttributes` for `keys` (every unwind attribute unless told). */
export function searchAttributeRegistration(keys: readonly (typeof unwindSearchAttributes)[number][] = unwindSearchAttributes): Record<string, number> {
  return Object.fromEntries(keys.map((key) => [key.name, indexedValueTypes[key.type]]));
}
