/**
 * Finding, building and caching the Temporal server binaries unwind runs on.
 *
 * Two servers, each resolved in the same order:
 *  - the dev server (the Temporal CLI, `temporal server start-dev`): `TEMPORAL_CLI`, then
 *    `temporal` on PATH, then a cached build, then `go install` at a pinned version;
 *  - the time-skipping test server (Java): `TEMPORAL_TEST_SERVER`, then a cached launcher,
 *    then the pinned Maven Central artifact resolved with Maven.
 * When neither a binary nor a toolchain is at hand, the SDK's own download is the fallback
 * (it needs internet access this project's machines may not have).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The newest Temporal CLI that `go install` accepts (later go.mods carry a replace directive). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** The Maven Central version of `io.temporal:temporal-test-server`. */
export const TEST_SERVER_VERSION = '1.38.0';

/** Where what this project builds is kept: `UNWIND_CACHE_DIR`, else `~/.cache/unwind`. */
export function cacheDir(): string {
  return process.env.UNWIND_CACHE_DIR ?? join(homedir(), '.cache', 'unwind');
}

/** A resolved server binary, or the decision to let the SDK download one. */
export type ServerExecutable =
  | { type: 'existing-path'; path: string; source: 'env' | 'path' | 'cache' | 'built' }
  | { type: 'cached-download'; source: 'sdk-download' };

/** Reports progress of long work to a person; defaults to stderr. */
export type ProgressSink = (line: string) => void;
const toStderr: ProgressSink = (line) => process.stderr.write(`${line}\n`);

/** Raised when a server can be neither found nor built; the message says how to provide it. */
export class ServerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnavailableError';
  }
}

const devServerCachePath = () => join(cacheDir(), `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
const testServerCacheDir = () => join(cacheDir(), `temporal-test-server-${TEST_SERVER_VERSION}`);
const testServerCachePath = () => join(testServerCacheDir(), 'temporal-test-server');

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function hasTool(command: string, versionArg: string): boolean {
  return spawnSync(command, [versionArg], { stdio: 'ignore' }).status === 0;
}

/** The executable `variable` names, `undefined` when unset. @throws {ServerUnavailableError} when it names nothing. */
export function executableFromEnv(variable: string): string | undefined {
  const path = process.env[variable];
  if (!path) return undefined;
  if (!existsSync(path)) {
    throw new ServerUnavailableError(`${variable}=${path} does not exist; point it at an executable or unset it.`);
  }
  return path;
}

/**
 * Finds the dev server without building anything.
 * @returns the executable, or `undefined` when only a build or a download could provide it.
 */
export function findDevServer(): ServerExecutable | undefined {
  const env = executableFromEnv('TEMPORAL_CLI');
  if (env) return { type: 'existing-path', path: env, source: 'env' };
  const path = onPath('temporal');
  if (path) return { type: 'existing-path', path, source: 'path' };
  if (existsSync(devServerCachePath())) return { type: 'existing-path', path: devServerCachePath(), source: 'cache' };
  return undefined;
}

/**
 * Finds the time-skipping test server without resolving anything from Maven.
 * @returns the executable, or `undefined` when only a build or a download could provide it.
 */
export function findTestServer(): ServerExecutable | undefined {
  const env = executableFromEnv('TEMPORAL_TEST_SERVER');
  if (env) return { type: 'existing-path', path: env, source: 'env' };
  if (existsSync(testServerCachePath())) {
    writeLauncher(testServerCacheDir());
    return { type: 'existing-path', path: testServerCachePath(), source: 'cache' };
  }
  return undefined;
}

/**
 * The SDK starts the executable as `<path> <port> [extra args]`, exactly TestServer's
 * arguments. The JVM flags favour start-up time: the SDK gives the server 5 s to answer.
 * Rewritten when it changed, so a cache built by an older unwind picks up new flags.
 */
function writeLauncher(dir: string): void {
  const launcher = join(dir, 'temporal-test-server');
  const text =
    '#!/bin/sh\nDIR="$(cd "$(dirname "$0")" && pwd)"\n' +
    'exec java ${UNWIND_TEST_SERVER_JAVA_OPTS:--Xmx512m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData} ' +
    '-cp "$DIR/lib/*" io.temporal.testserver.TestServer "$@"\n';
  if (existsSync(launcher) && readFileSync(launcher, 'utf8') === text) return;
  writeFileSync(launcher, text);
  chmodSync(launcher, 0o755);
}

/** Runs a command, streaming its output as progress lines; rejects with its tail on failure. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, progress: ProgressSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      // eslint-disable-next-line no-control-regex
      const lines = chunk.toString().replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      for (const line of lines.filter((l) => l.trim())) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        progress(`  ${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/** A heartbeat for work that prints nothing for minutes, so nobody thinks it hung. */
function ticking<T>(what: string, progress: ProgressSink, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => progress(`  … ${what}: ${Math.round((Date.now() - started) / 1000)}s`), 30_000);
  return work.finally(() => clearInterval(timer));
}

/**
 * Returns the dev server, building the pinned Temporal CLI with `go install` into the cache
 * when it is nowhere to be found and Go is present.
 * @throws {ServerUnavailableError} when there is no binary, no Go, and `allowDownload` is false.
 */
export async function ensureDevServer(
  options: { progress?: ProgressSink; allowDownload?: boolean } = {},
): Promise<ServerExecutable> {
  const progress = options.progress ?? toStderr;
  const found = findDevServer();
  if (found) return found;
  if (!hasTool('go', 'version')) {
    if (options.allowDownload) return { type: 'cached-download', source: 'sdk-download' };
    throw new ServerUnavailableError(
      'No Temporal dev server: set TEMPORAL_CLI to a `temporal` binary, put `temporal` on PATH, ' +
        `or install Go so unwind can build the CLI ${TEMPORAL_CLI_VERSION} (npm run setup:temporal).`,
    );
  }
  const target = devServerCachePath();
  const staging = `${target}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  progress(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first time only; takes several minutes)…`);
  const module = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;
  await ticking('go install', progress, run('go', ['install', module], { ...process.env, GOBIN: staging }, progress));
  // Built into a staging folder and moved in one step: an interrupted build never looks cached.
  renameSync(join(staging, 'temporal'), target);
  rmSync(staging, { recursive: true, force: true });
  progress(`Temporal CLI cached at ${target}`);
  return { type: 'existing-path', path: target, source: 'built' };
}

/**
 * Returns the time-skipping test server, resolving the pinned Maven Central artifact and
 * writing a launcher into the cache when it is nowhere to be found and Java and Maven are present.
 * @throws {ServerUnavailableError} when there is no launcher, no Java/Maven, and `allowDownload` is false.
 */
export async function ensureTestServer(
  options: { progress?: ProgressSink; allowDownload?: boolean } = {},
): Promise<ServerExecutable> {
  const progress = options.progress ?? toStderr;
  const found = findTestServer();
  if (found) return found;
  if (!hasTool('java', '-version') || !hasTool('mvn', '-v')) {
    if (options.allowDownload) return { type: 'cached-download', source: 'sdk-download' };
    throw new ServerUnavailableError(
      'No Temporal time-skipping test server: set TEMPORAL_TEST_SERVER to an executable that runs ' +
        '`io.temporal.testserver.TestServer <port>`, or install Java 17+ and Maven so unwind can resolve ' +
        `io.temporal:temporal-test-server:${TEST_SERVER_VERSION} (npm run setup:temporal).`,
    );
  }
  const dir = testServerCacheDir();
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(
    join(staging, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>unwind</groupId><artifactId>temporal-test-server-launcher</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  progress(`Resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central (first time only)…`);
  await ticking(
    'maven',
    progress,
    run(
      'mvn',
      ['-B', '-q', '-Dstyle.color=never', '-f', join(staging, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${join(staging, 'lib')}`],
      process.env,
      progress,
    ),
  );
  const jars = readdirSync(join(staging, 'lib')).filter((f) => f.endsWith('.jar'));
  if (!jars.some((f) => f.startsWith('temporal-test-server'))) {
    throw new ServerUnavailableError(`Maven resolved ${jars.length} jars but not temporal-test-server; see ${staging}.`);
  }
  writeLauncher(staging);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  progress(`Time-skipping test server cached at ${testServerCachePath()} (${jars.length} jars)`);
  return { type: 'existing-path', path: testServerCachePath(), source: 'built' };
}

/** Converts a resolved executable to the shape `@temporalio/testing` accepts. */
export function toSdkExecutable(
  executable: ServerExecutable,
): { type: 'existing-path'; path: string } | { type: 'cached-download' } {
  return executable.type === 'existing-path' ? { type: 'existing-path', path: executable.path } : { type: 'cached-download' };
}
