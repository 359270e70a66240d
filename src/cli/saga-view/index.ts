/**
 * How the CLI shows sagas: the list table, the step tree of `unwind show`, why a saga did not
 * finish, what an operator should run next, and the step graph as Mermaid or Graphviz dot.
 * The text and both graphs draw one tree (`stepTree`), so they always agree on the structure.
 * What a saga type adds (its reports, who else it waits on) comes from src/cli/views/.
 *
 * Pure functions of the data (status query, visibility rows) and a clock: no I/O, no SDK, so
 * every rendering is unit-tested and the module loads instantly.
 */
export { operatorCommands } from './commands';
export { GRAPH_FORMATS, type GraphFormat, renderDot, renderMermaid } from './graph';
export { renderReports } from './header';
export { renderSagaList } from './list';
export { residueKeys } from './residue';
export { renderSagaView } from './show';
export { styleSagaState, styleStepState } from './state-styles';
export { type StepNode, type TreeMember, stepTree } from './step-tree';
export type { ViewOptions } from './view-options';
