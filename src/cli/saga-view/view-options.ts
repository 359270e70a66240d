/** What every renderer of the saga view is given: the clock, colours, and how moments read. */
import { formatAgo, type Styles, styles } from '../format';

/** Options shared by the renderers. */
export interface ViewOptions {
  /** The clock "3m ago" counts from; now unless told. */
  now?: Date;
  /** Colours (identities unless told). */
  style?: Styles;
  /** Bold table headers. */
  color?: boolean;
}

/** {@link ViewOptions} with every default filled in. */
export type ResolvedViewOptions = Required<ViewOptions>;

/** Fills in the defaults: now, no colour. */
export function resolveViewOptions(options: ViewOptions): ResolvedViewOptions {
  return { now: options.now ?? new Date(), style: options.style ?? styles(false), color: options.color ?? false };
}

/** A moment both ways: exact for the logs, relative for the reader. */
export function when(time: string, now: Date): string {
  return `${time} (${formatAgo(time, now)})`;
}
