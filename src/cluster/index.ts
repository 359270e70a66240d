/**
 * A Temporal cluster on PostgreSQL on this machine: the pinned server built with Go, a
 * PostgreSQL of its own, optional mutual TLS, all state in one data folder. See cluster.ts.
 */
export { ensureClusterBinaries, findClusterBinaries, findPostgresSchema, TEMPORAL_SERVER_VERSION, type ClusterBinaries } from './binaries';
export type { ClusterCertificates } from './certs';
export { TemporalCluster, type ClusterOptions } from './cluster';
export { manageProcess, spawnConsoleProcess, spawnRackProcess, spawnWorkerProcess, type ManagedProcess } from './managed';
export { findPostgres } from './postgres';
