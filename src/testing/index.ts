/**
 * What a saga author imports to test a saga: Temporal environments (time-skipping and dev
 * server), a worker serving unwind's workflows, a real rack simulator, and the harness that
 * proves a saga succeeds idempotently and unwinds cleanly from every step.
 */
export { createDevServerEnv, createTimeSkippingEnv } from './environments';
export { createClusterEnv, spawnRackProcess, spawnWorkerProcess, type ClusterEnv, type ManagedProcess } from './cluster';
export {
  createSagaHarness,
  sagaUnwoundDetails,
  SagaContractViolation,
  type HarnessReport,
  type SagaHarness,
  type SagaHarnessOptions,
  type SagaWorkflow,
} from './harness';
export { failureOf, findOrphans, ledgerResidue, startTestRack, type TestRack } from './rack';
export { BEFORE_PIVOT_MODES, type ProofMode, type ProofReport, type ProofRow, type ProveSagaOptions } from './prove';
export { bundleUnwindWorkflows, createUnwindTestWorker, quietLogger } from './worker';
export { startRackSagaBed, type RackSagaBed, type RackSagaBedOptions } from './saga-bed';
export {
  fetchHistories,
  historyFromJSON,
  historyToJSON,
  readHistoryCorpus,
  replayHistories,
  type CorpusEntry,
  type CorpusHistory,
  type HistoryToReplay,
  type ReplayFailure,
  type ReplayOptions,
  type ReplayReport,
} from './replay';
