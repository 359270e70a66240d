/**
 * Output helpers of the `unwind` CLI: plain-text tables, colours, durations, duration flags
 * and a progress indicator for waiting.
 *
 * Everything here works without a terminal: output is meant to be read by operators and
 * grepped by scripts alike, so tables are plain text and colour appears only on a TTY.
 * Tables are laid out by cli-table3, which measures a cell as the terminal shows it (colour
 * codes take no room, wide characters two columns); colours are `node:util`'s `styleText`.
 */
import { styleText } from 'node:util';
import Table from 'cli-table3';
import { usageError } from './exit-codes';

// ---------------------------------------------------------------------------------------
// Colours

/** The part of a stream the helpers need: where to write and whether it is a terminal. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * True when colours may be used on `stream`: it is a TTY and `NO_COLOR` is unset or empty
 * (https://no-color.org).
 */
export function colorEnabled(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** ANSI styles that are identities when colour is off, so callers never branch on it. */
export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

/** The styles to use; plain identities when `enabled` is false. */
export function styles(enabled: boolean): Styles {
  // validateStream off: whether to colour was decided above, for the stream the text goes to
  // (often stderr, or a test's), not by styleText looking at stdout.
  const style = (format: 'bold' | 'dim' | 'red' | 'green' | 'yellow') => (text: string) =>
    enabled ? styleText(format, text, { validateStream: false }) : text;
  return { bold: style('bold'), dim: style('dim'), red: style('red'), green: style('green'), yellow: style('yellow') };
}

// ---------------------------------------------------------------------------------------
// Tables

/** A table column: its header, alignment and the width beyond which cells are truncated. */
export interface Column {
  header: string;
  /** `right` for numbers, so digits line up; `left` unless told. */
  align?: 'left' | 'right';
  /** Cells longer than this are cut and end with `…`; {@link TableOptions.maxCellWidth} unless told. */
  maxWidth?: number;
}

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** The default truncation width of every column; 48 unless told. */
  maxCellWidth?: number;
  /** Bold headers; pass {@link colorEnabled}'s answer. Off unless told. */
  color?: boolean;
  /** Spaces between columns; 2 unless told. */
  gap?: number;
}

/** The text of a cell: `-` for null/undefined, `yes`/`no` for booleans, else `String(value)`. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Cuts `text` to at most `width` characters, ending with `…` when it was cut. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  return `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * Renders rows as a plain-text table: a header line, then one line per row, columns padded to
 * their widest cell, long cells truncated with `…`, no trailing spaces. Newlines and tabs in
 * cells become spaces so one row stays one line (scripts can `grep` and `awk` it). Widths are
 * as the terminal shows them: a cell may carry colour (a {@link Styles} result) and wide
 * characters, and the columns still line up.
 *
 * @param columns headers as strings, or {@link Column}s for alignment and width
 * @param rows one array of cell values per row; see {@link cellText} for how values print
 * @returns the table without a final newline; an empty string when there are no columns
 */
export function renderTable(columns: readonly (string | Column)[], rows: readonly (readonly unknown[])[], options: TableOptions = {}): string {
  if (columns.length === 0) return '';
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const max = options.maxCellWidth ?? 48;
  const cells = rows.map((row) => cols.map((_, i) => cellText(row[i]).replace(/[\r\n\t]+/g, ' ')));
  const headers = cols.map((c) => c.header);
  const widths = columnWidths([headers, ...cells], cols.length);
  const bold = styles(options.color ?? false).bold;
  const table = new Table({
    head: headers.map((h) => bold(h)),
    chars: { ...BORDERLESS, middle: ' '.repeat(options.gap ?? 2) },
    style: TABLE_STYLE,
    colAligns: cols.map((c) => c.align ?? 'left'),
    // A column whose widest cell passes its limit is set to the limit (never narrower than its
    // header), and cli-table3 cuts the longer cells with `…`; the others fit their widest cell.
    colWidths: cols.map((c, i) => {
      const limit = Math.max(1, c.maxWidth ?? max, length(c.header));
      return (widths[i] ?? 0) > limit ? limit : null;
    }),
  });
  table.push(...cells);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
} as const;
// No padding (the gap between columns is `middle`), no colours of cli-table3's own, and
// `compact`: no separator line between rows.
const TABLE_STYLE = { 'padding-left': 0, 'padding-right': 0, head: [], border: [], compact: true };

/**
 * The display width of each column's widest cell, measured by cli-table3 itself so truncation
 * agrees with its layout: laid out once with `|` between columns and a last row of empty
 * cells, that row is nothing but each column's padding, split at the `|`s.
 */
function columnWidths(cells: readonly (readonly string[])[], count: number): number[] {
  const probe = new Table({ chars: { ...BORDERLESS, middle: '|' }, style: TABLE_STYLE });
  probe.push(...cells.map((row) => [...row]), Array<string>(count).fill(''));
  const lines = probe.toString().split('\n');
  return (lines[lines.length - 1] ?? '').split('|').map((pad) => pad.length);
}

// Code points, for headers (plain ASCII) and truncate.
function length(text: string): number {
  return Array.from(text).length;
}

// ---------------------------------------------------------------------------------------
// Durations

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
] as const;

/**
 * A duration for people: the two largest non-zero units, e.g. `3m 12s`, `2d 4h`, `45s`;
 * below one second, milliseconds (`250ms`). Negative durations print as their absolute value.
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(Math.round(ms));
  if (abs < 1_000) return `${abs}ms`;
  const parts: string[] = [];
  let rest = abs;
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  // Drop a trailing zero unit: `2h 0m` reads better as `2h`.
  if (parts.length === 2 && parts[1]?.startsWith('0')) parts.pop();
  return parts.join(' ');
}

/**
 * How long ago `time` was, relative to `now`: `3m 12s ago`, or `in 5m` for the future;
 * `-` for a missing or unparseable time.
 */
export function formatAgo(time: string | Date | null | undefined, now: Date = new Date()): string {
  if (time === null || time === undefined) return '-';
  const at = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(at)) return '-';
  const delta = now.getTime() - at;
  if (Math.abs(delta) < 1_000) return 'just now';
  return delta > 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

const PARSE_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration flag: a number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`), or several run
 * together (`1h30m`). A bare `0` is zero.
 *
 * @param flag the flag being parsed, e.g. `--since`, so the error names it
 * @returns milliseconds
 * @throws a usage error (exit 2) naming `flag` and showing valid examples
 */
export function parseDuration(text: string, flag: string): number {
  const value = text.trim();
  if (value === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let end = 0;
  for (let match = part.exec(value); match; match = part.exec(value)) {
    total += Number(match[1]) * (PARSE_UNITS[match[2] ?? ''] ?? Number.NaN);
    end = part.lastIndex;
  }
  if (value === '' || end !== value.length || !Number.isFinite(total)) {
    throw usageError(`${flag}: '${text}' is not a duration`, 'give a number and a unit, e.g. 200ms, 30s, 10m, 1h, 2d or 1h30m');
  }
  return Math.round(total);
}

// ---------------------------------------------------------------------------------------
// Progress

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where to draw; stderr unless told, so stdout stays clean for data and `--json`. */
  stream?: OutputStream;
  /** Whether to animate in place; the stream's `isTTY` unless told. */
  tty?: boolean;
  /** Colour for the spinner; off unless told. */
  color?: boolean;
  /** Without a TTY, repeat an unchanged line this often so logs show it is alive; 10 s unless told. */
  plainEveryMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** A progress indicator; see {@link createProgress}. */
export interface Progress {
  /** Sets the status text (e.g. the saga's current step). */
  update(text: string): void;
  /** Stops the indicator and leaves `text` (if any) as the final line. Safe to call twice. */
  done(text?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Shows that the CLI is waiting: on a TTY a spinner and the status redrawn in place (100 ms
 * frames); otherwise plain lines, written when the status changes and every `plainEveryMs`,
 * each with the time waited so far. Timers are unref'd: a forgotten indicator never keeps the
 * process alive.
 */
export function createProgress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? Date.now;
  const started = now();
  const dim = styles(options.color ?? false).dim;
  let status = '';
  let frame = 0;
  let lastPlain = Number.NEGATIVE_INFINITY;
  let finished = false;

  const elapsed = () => formatDuration(now() - started);
  const draw = () => {
    if (tty) {
      frame = (frame + 1) % FRAMES.length;
      stream.write(`\r\x1b[2K${FRAMES[frame]} ${label}${status ? `: ${status}` : ''} ${dim(`(${elapsed()})`)}`);
    } else if (now() - lastPlain >= (options.plainEveryMs ?? 10_000)) {
      lastPlain = now();
      stream.write(`${label}${status ? `: ${status}` : ''} (${elapsed()})\n`);
    }
  };
  const timer = setInterval(draw, tty ? 100 : Math.min(options.plainEveryMs ?? 10_000, 1_000));
  timer.unref();
  draw();

  return {
    update(text) {
      if (finished || text === status) return;
      status = text;
      lastPlain = Number.NEGATIVE_INFINITY;
      draw();
    },
    done(text) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (tty) stream.write('\r\x1b[2K');
      if (text !== undefined) stream.write(`${text}\n`);
    },
  };
}
