/**
 * What a saga type adds to the generic saga view (`unwind show`, the console's saga page): header
 * fields drawn from its typed reports, and the people it waits on besides operators and
 * approvers. The generic view knows no saga type; ./registry.ts lists each type's view.
 */
import type { SagaAction } from '../../client';
import type { ReportReader } from '../../schemas/report';
import type { SagaStatus } from '../../schemas/saga';
import { truncate } from '../format';

/** A header line drawn from a report: `evacuate: 3 of 5 instances moved`. */
export interface ReportField {
  label: string;
  text: string;
}

/** Somebody the saga waits on (e.g. a technician), for what, and how they answer. */
export interface PersonAsk {
  /** The step that waits. */
  step: string;
  /** What it waits for: `the new hardware`. */
  waitsFor: string;
  since: string;
  /** Who may answer (any one of them). */
  who: readonly string[];
  /** What they must do: `swap the hardware and report its serial`. */
  task: string;
  /** The command that answers, as `unwind show` prints it. */
  command: string;
  /** The client's action that answers, and its button's label on the console. */
  action: { name: SagaAction; label: string };
  /** The request's name on the console: `New hardware awaited`. */
  title: string;
}

/** One saga type's view. */
export interface SagaTypeView {
  readonly sagaType: string;
  /** Header fields from the saga's reports, in order (see {@link reportField}). */
  fields(status: SagaStatus, now: Date): ReportField[];
  /** The people it waits on now besides operators and approvers; none when left out. */
  asks?(status: SagaStatus): PersonAsk[];
}

/**
 * The field a report gives: none while the saga has not published it (or `render` gives
 * nothing), `unreadable …` with the schema's complaint when it is not what the schema says (a
 * saga of another version: the view shows that rather than failing), else `render`'s text.
 */
export function reportField<T>(status: SagaStatus, report: ReportReader<T>, label: string, render: (value: T) => string | undefined): ReportField[] {
  const reading = report.inspect(status);
  if (reading.kind === 'absent') return [];
  // Every bad field is named; a report of thousands of bad rows would drown the header.
  if (reading.kind === 'unreadable') return [{ label, text: `unreadable report "${report.name}": ${truncate(reading.problem, 200)}` }];
  const text = render(reading.value);
  return text === undefined ? [] : [{ label, text }];
}
