/**
 * The simulated rack's state: SQLite schema and every operation, as plain functions over a
 * better-sqlite3 Database. No HTTP here; the server maps these onto routes.
 *
 * Each mutation runs in one transaction together with its idempotency record and its ledger
 * rows, so a request either applies completely (and is remembered under its key) or not at all.
 * One module per concept; this is the one import point.
 */
export { REGION_REPLICAS } from './actions/disks';
export { type RackDb, openRackDb } from './db';
export { RackFailure, invalidRequest, parseInput } from './errors';
export { type HardwareSettlement, type SimulatedHardware, settleHardware } from './hardware';
export { type MutationResult, runMutation } from './idempotency';
export { findResource, getResource, inventory, listLedger, listResource } from './reads';
export { cidrHosts, defaultRackSeed, isRackEmpty, resetRack, seedRack } from './seed';
