/**
 * Small statistics and the table of the vs-handwritten bench: medians, percentiles, ratios and
 * their ranges, formatted as `measure | hand-written | unwind | ratio | goal`.
 */

/** The value at quantile `q` (0..1) of `values`, linearly interpolated; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** One line of the table: both sides' values, unwind's ratio to hand-written and its range over pairs. */
export interface Row {
  section: string;
  measure: string;
  unit: string;
  handwritten: number;
  unwind: number;
  /** unwind / hand-written: the median of the per-pair ratios (or the one pair's). */
  ratio: number;
  /** The per-pair ratios' range, when there are several pairs. */
  ratioRange?: [number, number];
  /** unwind − hand-written: the median of the per-pair differences (history events). */
  difference?: number;
  /** The goal this measure is checked against, in words (`≤ 1.05×`, `≤ +2`), and whether it was met. */
  goal?: string;
  met?: boolean;
  /** The per-pair values, for the JSON. */
  pairs?: { handwritten: number; unwind: number }[];
}

/** A row from per-pair values (one pair per round, or a single pair). */
export function pairRow(
  section: string,
  measure: string,
  unit: string,
  pairs: { handwritten: number; unwind: number }[],
  goal?: { text: string; check: (row: Row) => boolean },
): Row {
  const ratios = pairs.map((p) => p.unwind / p.handwritten).filter((r) => Number.isFinite(r));
  const row: Row = {
    section,
    measure,
    unit,
    handwritten: median(pairs.map((p) => p.handwritten)),
    unwind: median(pairs.map((p) => p.unwind)),
    ratio: median(ratios),
    ...(ratios.length > 1 && { ratioRange: [Math.min(...ratios), Math.max(...ratios)] as [number, number] }),
    pairs,
  };
  row.difference = median(pairs.map((p) => p.unwind - p.handwritten));
  if (goal) {
    row.goal = goal.text;
    row.met = goal.check(row);
  }
  return row;
}

function number(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  const digits = Math.abs(value) >= 100 || unit === 'events' ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The table as text, one section after another. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['measure', 'hand-written', 'unwind', 'ratio (range)', 'goal'];
  const lines: string[][] = [];
  let section = '';
  const sectionLines: number[] = [];
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      sectionLines.push(lines.length);
      lines.push([`${section}`, '', '', '', '']);
    }
    const ratio =
      row.unit === 'events'
        ? `${row.difference! >= 0 ? '+' : ''}${row.difference!.toFixed(0)}`
        : `${row.ratio.toFixed(2)}×${row.ratioRange ? ` (${row.ratioRange[0].toFixed(2)}–${row.ratioRange[1].toFixed(2)})` : ''}`;
    const goal = row.goal ? `${row.goal} ${row.met ? 'met' : 'MISSED'}` : '';
    lines.push([`  ${row.measure}`, number(row.handwritten, row.unit), number(row.unwind, row.unit), ratio, goal]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter((_, j) => !sectionLines.includes(j)).map((l) => l[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  const out = [render(header), widths.map((w) => '-'.repeat(w)).join('-|-')];
  lines.forEach((l, j) => out.push(sectionLines.includes(j) ? l[0]! : render(l)));
  return out.join('\n');
}
