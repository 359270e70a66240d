/** The colours saga and step states read as, in the CLI and (as tones) in the console. */
import type { SagaState, StepState } from '../../schemas/saga';
import type { Styles } from '../format';

/** The colour a step state reads as: green done, red failed, yellow in flight, dim undone. */
export function styleStepState(state: StepState, style: Styles): string {
  switch (state) {
    case 'succeeded':
      return style.green(state);
    case 'failed':
    case 'undo-failed':
      return style.red(state);
    case 'running':
    case 'undoing':
      return style.yellow(state);
    case 'undone':
    case 'skipped':
    case 'pending':
      return style.dim(state);
  }
}

/** The colour a saga state reads as. */
export function styleSagaState(state: SagaState | null, style: Styles): string {
  if (state === null) return '-';
  switch (state) {
    case 'completed':
      return style.green(state);
    case 'needs-operator':
    case 'stuck':
      return style.bold(style.red(state));
    case 'unwound':
      return style.red(state);
    // Unwound, but something it did stays in the rack: a person must clean it up.
    case 'unwound-with-residue':
      return style.bold(style.red(state));
    // Ended on an error without unwinding: whatever it did stays, and a person must look.
    case 'failed':
      return style.bold(style.red(state));
    // Ended as asked: neither a success nor a failure.
    case 'cancelled':
    case 'running':
    case 'unwinding':
    case 'awaiting-approval':
      return style.yellow(state);
  }
}
