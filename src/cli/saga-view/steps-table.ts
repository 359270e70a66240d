/** The step table of `unwind show`, drawn from the step tree. */
import type { SagaStatus, StepState, StepStatus } from '../../schemas/saga';
import { formatDuration, renderTable } from '../format';
import { styleStepState } from './state-styles';
import { stepTree, walkTree } from './step-tree';
import type { ResolvedViewOptions } from './view-options';

/** The step table, drawn from the step tree: each box (group, member) indented under its label, the pivot as a rule. */
export function renderSteps(status: SagaStatus, o: ResolvedViewOptions): string[] {
  if (status.steps.length === 0) return ['no steps yet'];
  type Row = { name: string; step?: StepStatus; rule?: boolean };
  const rows: Row[] = [];
  const indent = (depth: number) => '  '.repeat(depth);
  walkTree(stepTree(status.steps, status.pivoted), {
    step: (step, _id, depth) => rows.push({ name: `${indent(depth)}${step.name}`, step }),
    pivot: (depth) => rows.push({ name: `${indent(depth)}── pivot ──`, rule: true }),
    open: (_id, label, depth) => rows.push({ name: `${indent(depth)}${label}` }),
    close: () => {},
  });

  const empty = ['', '', '', '', ''];
  const cells = rows.map((r) =>
    r.step
      ? [
          r.name,
          styleStepState(r.step.state, o.style),
          String(r.step.attempts),
          undoText(r.step),
          took(r.step),
          r.step.lastError ? `${r.step.lastError.type}: ${r.step.lastError.message}` : '-',
        ]
      : [r.rule ? o.style.dim(r.name) : r.name, ...empty],
  );
  // The state is coloured inside its cell: renderTable measures what the terminal shows.
  const columns = ['STEP', 'STATE', 'TRIES', 'UNDO', 'TOOK', { header: 'LAST ERROR', maxWidth: 80 }];
  return renderTable(columns, cells, { color: o.color, maxCellWidth: Infinity }).split('\n');
}

function undoText(step: StepStatus): string {
  if (!step.undoable) return 'none';
  const undoStates: readonly StepState[] = ['undoing', 'undone', 'undo-failed', 'skipped'];
  if (!undoStates.includes(step.state) && step.undoAttempts === 0) return '-';
  return `${undoStates.includes(step.state) ? step.state : 'ran'}${step.undoAttempts > 1 ? ` ×${step.undoAttempts}` : ''}`;
}

function took(step: StepStatus): string {
  if (!step.startedAt || !step.finishedAt) return step.startedAt && step.state === 'running' ? 'running' : '-';
  return formatDuration(Date.parse(step.finishedAt) - Date.parse(step.startedAt));
}
