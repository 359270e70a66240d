/**
 * `npm run setup:cluster`: obtains what the PostgreSQL cluster runs on, once — the Temporal
 * server and its schema tool (built with `go install`, cached), the server's schema, and a check
 * that PostgreSQL is installed. `npm test` runs it before the tests, so no test file builds
 * while another one does. A second run finds the cache and returns at once.
 */
import { ensureClusterBinaries, findPostgresSchema, TEMPORAL_SERVER_VERSION } from '../src/cluster/binaries';
import { findPostgres } from '../src/cluster/postgres';

async function main(): Promise<void> {
  const started = Date.now();
  const postgres = findPostgres();
  const binaries = await ensureClusterBinaries();
  const schema = await findPostgresSchema();
  console.log(`PostgreSQL: ${postgres.postgres}`);
  console.log(`Temporal server ${TEMPORAL_SERVER_VERSION}: ${binaries.server}`);
  console.log(`schema tool: ${binaries.sqlTool}; schema: ${schema.temporal}`);
  console.log(`cluster parts ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
