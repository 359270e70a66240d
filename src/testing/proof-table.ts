/**
 * The proof report as people read it (`ProofReport.table`): a row per step, a column per mode,
 * each cell the outcome of that run, under a line that counts runs and violations.
 */
import type { ProofMode, ProofRow } from './prove';

/** Each mode's column heading. */
const SHORT: Record<ProofMode, string> = {
  'succeeds-idempotently': 'twice',
  'fail-before': 'before',
  'fail-after': 'after',
  'undo-twice': 'undo×2',
  'needs-operator-unwind': 'NO→unwind',
  'needs-operator-retry': 'NO→retry',
  'unknown-state-unwind': 'US→unwind',
  'unknown-state-retry': 'US→retry',
  cancel: 'cancel',
  'fail-after-pivot': 'after pivot',
};

/** The proof as a table: a row per step, a column per mode, and a line of totals. */
export function renderProofTable(saga: string, rows: ProofRow[], wallMs: number): string {
  const modes = [...new Set(rows.map((r) => r.mode))];
  const steps = [...new Set(rows.map((r) => r.step))];
  const cell = (step: string, mode: ProofMode) => {
    const row = rows.find((r) => r.step === step && r.mode === mode);
    return row === undefined ? '' : row.outcome === 'VIOLATION' ? '✗ VIOLATION' : row.outcome;
  };
  const header = ['step', ...modes.map((m) => SHORT[m])];
  const body = steps.map((step) => [step, ...modes.map((m) => cell(step, m))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const violations = rows.filter((r) => r.outcome === 'VIOLATION').length;
  return [
    `proveSaga(${saga}): ${rows.length} runs, ${violations} violations, ${(wallMs / 1000).toFixed(1)} s`,
    line(header),
    ...body.map(line),
  ].join('\n');
}
