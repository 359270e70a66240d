/**
 * A saga's reports, typed by one schema for writer and readers: the workflow publishes through
 * a {@link ReportDefinition} (`saga.report(evacuationReport, progress)`, checked by the
 * compiler) and the CLI and the console read the status through the same definition
 * (`evacuationReport.read(status)`), so nothing casts.
 *
 * Workflow code imports it (the saga engine re-exports {@link defineReport}); it loads nothing
 * but zod and the schemas' own helpers. Define a workflow's reports in a module of its own
 * under src/schemas, so readers never load the workflow.
 */
import type { z } from 'zod';
import { formatIssues } from './validation';

/** Where reports are: a saga's status, or a cancelled saga's outcome (`reports` absent there otherwise). */
export interface ReportHolder {
  readonly reports?: Readonly<Record<string, unknown>>;
}

/** What a status holds under a report's name. */
export type ReportReading<T> =
  | { readonly kind: 'absent' }
  | { readonly kind: 'read'; readonly value: T }
  /** Present, but not what the schema says: a saga of another version, or a bug. */
  | { readonly kind: 'unreadable'; readonly problem: string };

/** The reading side of a report: what the CLI and the console need. */
export interface ReportReader<T> {
  /** Its name in the status's `reports`. */
  readonly name: string;
  /** The report in `holder`, parsed; `undefined` when it is absent or unreadable. */
  read(holder: ReportHolder): T | undefined;
  /** The report in `holder`: absent, parsed, or unreadable with the schema's complaint. */
  inspect(holder: ReportHolder): ReportReading<T>;
}

/**
 * One report of a saga type: its name in the status and its schema. `Written` is what the
 * workflow publishes (the schema's input), `T` what readers get (its output).
 */
export interface ReportDefinition<T, Written = T> extends ReportReader<T> {
  readonly schema: z.ZodType<T, Written>;
  /**
   * Stores `value` under the report's name in `reports` (the saga engine calls it for
   * `saga.report`). A property, not a method, so the compiler checks `value` strictly.
   */
  readonly write: (reports: Record<string, unknown>, value: Written) => void;
}

/**
 * Defines the report `name` of a saga type, typed by `schema`. Keep the schema JSON-shaped and
 * free of transforms (readers parse what the writer stored); give fields that earlier versions
 * of the workflow did not write a default or make them optional, so a saga started before a
 * change still reads.
 */
export function defineReport<S extends z.ZodType>(name: string, schema: S): ReportDefinition<z.output<S>, z.input<S>> {
  const inspect = (holder: ReportHolder): ReportReading<z.output<S>> => {
    const raw = holder.reports?.[name];
    if (raw === undefined) return { kind: 'absent' };
    const parsed = schema.safeParse(raw);
    return parsed.success ? { kind: 'read', value: parsed.data } : { kind: 'unreadable', problem: formatIssues(parsed.error, { root: 'report' }) };
  };
  return {
    name,
    schema: schema as z.ZodType<z.output<S>, z.input<S>>,
    write: (reports, value) => {
      reports[name] = value;
    },
    read: (holder) => {
      const reading = inspect(holder);
      return reading.kind === 'read' ? reading.value : undefined;
    },
    inspect,
  };
}
