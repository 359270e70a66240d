/**
 * The workflow bundle of the vs-handwritten bench's worker: both sides, and the workflow
 * unwind's approvals start as a child (`remindPeople`).
 */
export { approveSignal, handwrittenVsSaga } from './handwritten';
export { unwindVsSaga } from './unwind-saga';
export { remindPeople } from '../../src/workflows/remind-people';
