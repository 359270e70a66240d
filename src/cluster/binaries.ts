/**
 * The Temporal server and its SQL schema tool, built with `go install` at a pinned version into
 * unwind's cache (the first time takes minutes, later calls return at once), and the versioned
 * PostgreSQL schema that ships in the server's Go module source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, executableFromEnv, ServerUnavailableError, type ProgressSink } from '../temporal/servers';
import { runCommand } from './processes';

/** The Temporal server release the cluster runs (and docker-compose pins). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

const SERVER_MODULE = 'go.temporal.io/server';

/** The server (`temporal-server`) and the schema tool (`temporal-sql-tool`). */
export interface ClusterBinaries {
  server: string;
  sqlTool: string;
}

const toStderr: ProgressSink = (line) => process.stderr.write(`${line}\n`);

const HOW_TO_GET_GO =
  'Install Go 1.25 or later (https://go.dev/dl/, or `apt-get install golang` where it is recent enough) so unwind can build them, ' +
  'or set UNWIND_TEMPORAL_SERVER and UNWIND_TEMPORAL_SQL_TOOL to existing `temporal-server` and `temporal-sql-tool` binaries ' +
  `of Temporal ${TEMPORAL_SERVER_VERSION}.`;

const binDir = () => join(cacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);

function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** The cached binaries, without building anything; `undefined` for what is missing. */
export function findClusterBinaries(): Partial<ClusterBinaries> {
  const cached = (name: string) => (existsSync(join(binDir(), name)) ? join(binDir(), name) : undefined);
  return {
    server: executableFromEnv('UNWIND_TEMPORAL_SERVER') ?? cached('temporal-server'),
    sqlTool: executableFromEnv('UNWIND_TEMPORAL_SQL_TOOL') ?? cached('temporal-sql-tool'),
  };
}

/**
 * Returns the server and the schema tool: `UNWIND_TEMPORAL_SERVER` / `UNWIND_TEMPORAL_SQL_TOOL`,
 * else the cache, else `go install` of `go.temporal.io/server` at {@link TEMPORAL_SERVER_VERSION}
 * into a staging folder moved into the cache in one step (an interrupted build never looks cached).
 * @throws {ServerUnavailableError} when one is missing and Go is not installed.
 */
export async function ensureClusterBinaries(options: { progress?: ProgressSink } = {}): Promise<ClusterBinaries> {
  const progress = options.progress ?? toStderr;
  const found = findClusterBinaries();
  if (found.server && found.sqlTool) return { server: found.server, sqlTool: found.sqlTool };
  if (!hasGo()) {
    throw new ServerUnavailableError(`No Temporal server ${TEMPORAL_SERVER_VERSION} for the cluster, and no Go to build it. ${HOW_TO_GET_GO}`);
  }
  const target = binDir();
  const staging = `${target}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const env = { ...process.env, GOBIN: staging };
  const builds = [
    { what: 'the Temporal server', pkg: 'cmd/server', built: 'server', name: 'temporal-server' },
    { what: 'the Temporal SQL schema tool', pkg: 'cmd/tools/sql', built: 'sql', name: 'temporal-sql-tool' },
  ];
  for (const build of builds) {
    const module = `${SERVER_MODULE}/${build.pkg}@${TEMPORAL_SERVER_VERSION}`;
    progress(`Building ${build.what} ${TEMPORAL_SERVER_VERSION} with go install ${module} (first time only; takes several minutes)…`);
    const started = Date.now();
    const timer = setInterval(() => progress(`  … go install ${build.pkg}: ${Math.round((Date.now() - started) / 1000)}s`), 30_000);
    try {
      await runCommand('go', ['install', module], { env, onLine: (line) => progress(`  ${line}`) });
    } catch (err) {
      throw new ServerUnavailableError(`go install ${module} failed: ${(err as Error).message}\n${HOW_TO_GET_GO}`);
    } finally {
      clearInterval(timer);
    }
    renameSync(join(staging, build.built), join(staging, build.name));
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  progress(`Temporal server and schema tool cached in ${target}`);
  const cached = findClusterBinaries();
  return { server: cached.server ?? join(target, 'temporal-server'), sqlTool: cached.sqlTool ?? join(target, 'temporal-sql-tool') };
}

/** The two versioned schema folders `temporal-sql-tool update-schema -d` takes. */
export interface PostgresSchemaDirs {
  temporal: string;
  visibility: string;
}

/**
 * Finds the server's versioned PostgreSQL schema: `UNWIND_TEMPORAL_SCHEMA_DIR` (a folder
 * holding `temporal/versioned` and `visibility/versioned`, as `schema/postgresql/v12` does in
 * the server's source), else the Go module source of the pinned server, downloaded into the
 * module cache when it is not there yet.
 */
export async function findPostgresSchema(): Promise<PostgresSchemaDirs> {
  const dirs = (root: string): PostgresSchemaDirs => ({
    temporal: join(root, 'temporal', 'versioned'),
    visibility: join(root, 'visibility', 'versioned'),
  });
  const fromVariable = process.env.UNWIND_TEMPORAL_SCHEMA_DIR;
  if (fromVariable) {
    const found = dirs(fromVariable);
    if (!existsSync(found.temporal) || !existsSync(found.visibility)) {
      throw new ServerUnavailableError(
        `UNWIND_TEMPORAL_SCHEMA_DIR=${fromVariable} holds no temporal/versioned and visibility/versioned folders; ` +
          `point it at schema/postgresql/v12 of the Temporal server ${TEMPORAL_SERVER_VERSION} source.`,
      );
    }
    return found;
  }
  if (!hasGo()) {
    throw new ServerUnavailableError(
      `The PostgreSQL schema of Temporal ${TEMPORAL_SERVER_VERSION} comes from the server's Go module source, and Go is not installed. ` +
        `Install Go, or set UNWIND_TEMPORAL_SCHEMA_DIR to schema/postgresql/v12 of that source.`,
    );
  }
  const module = `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`;
  let moduleDir: string;
  try {
    // Outside a module, `go mod download` fetches into (or finds in) the module cache and says where.
    const output = await runCommand('go', ['mod', 'download', '-json', module], { cwd: neutralDir() });
    moduleDir = (JSON.parse(output) as { Dir?: string }).Dir ?? '';
  } catch (err) {
    throw new ServerUnavailableError(`Could not find the source of ${module} in Go's module cache: ${(err as Error).message}`);
  }
  const found = dirs(join(moduleDir, 'schema', 'postgresql', 'v12'));
  if (!existsSync(found.temporal) || !existsSync(found.visibility)) {
    throw new ServerUnavailableError(`${moduleDir} has no schema/postgresql/v12/{temporal,visibility}/versioned folders.`);
  }
  return found;
}

/** `go mod download` must not run inside some other Go module; the cache folder is neutral ground. */
function neutralDir(): string {
  mkdirSync(cacheDir(), { recursive: true });
  return cacheDir();
}
