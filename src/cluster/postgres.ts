/**
 * A PostgreSQL server of the cluster's own: its data folder inside the cluster's, initialised
 * once with a `temporal` superuser and password, listening on 127.0.0.1 only (its unix socket
 * in the data folder), started and killed as a process this one owns.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { ServerUnavailableError } from '../temporal/servers';
import { childrenOf, killAndReap, logSize, runCommand, spawnGuarded, stopGroup, waitUntil, type Spawned } from './processes';

const HOW_TO_GET_POSTGRES =
  'Install PostgreSQL 12 or later (Debian/Ubuntu: `apt-get install postgresql`, which puts initdb and postgres in ' +
  '/usr/lib/postgresql/<version>/bin), or set UNWIND_PG_BIN to the folder holding them.';

/** The PostgreSQL server binaries. */
interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** Finds initdb and postgres: `UNWIND_PG_BIN`, PATH, then Debian's /usr/lib/postgresql/<newest>/bin. */
export function findPostgres(): PostgresBinaries {
  const candidates: string[] = [];
  if (process.env.UNWIND_PG_BIN) candidates.push(process.env.UNWIND_PG_BIN);
  else {
    candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
    const debian = '/usr/lib/postgresql';
    if (existsSync(debian)) {
      const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
      candidates.push(...versions.map((v) => join(debian, v, 'bin')));
    }
  }
  for (const dir of candidates) {
    const initdb = join(dir, 'initdb');
    const postgres = join(dir, 'postgres');
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres };
  }
  const where = process.env.UNWIND_PG_BIN ? `UNWIND_PG_BIN=${process.env.UNWIND_PG_BIN} holds no initdb and postgres. ` : 'No PostgreSQL server (initdb, postgres) found. ';
  throw new ServerUnavailableError(`${where}${HOW_TO_GET_POSTGRES}`);
}

/** Who PostgreSQL runs as: itself refuses root, so under root the `postgres` user (or `UNWIND_PG_USER`). */
function runAs(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.UNWIND_PG_USER ?? 'postgres';
  const id = (flag: string) => spawnSync('id', [flag, name], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new ServerUnavailableError(
      `PostgreSQL does not run as root, and there is no user "${name}" to run it as: create one ` +
        '(Debian\'s postgresql package does), or set UNWIND_PG_USER to an unprivileged user.',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name };
}

/** PostgreSQL in `dataDir` (its PGDATA) on 127.0.0.1:`port`, with the `temporal` superuser. */
export class Postgres {
  private process: Spawned | undefined;
  private readonly binaries = findPostgres();
  private readonly user = runAs();

  constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly password: string,
    private readonly log: string,
  ) {}

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return this.process && !this.process.hasExited() ? this.process.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  private owned(path: string): void {
    if (this.user) chownSync(path, this.user.uid, this.user.gid);
  }

  /** Creates the database cluster once; `true` when it did (a new, empty PostgreSQL). */
  async initialise(): Promise<boolean> {
    if (existsSync(join(this.dataDir, 'PG_VERSION'))) return false;
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    this.owned(this.dataDir);
    this.checkReachable();
    const pwfile = `${this.dataDir}.pwfile`;
    writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    this.owned(pwfile);
    try {
      await runCommand(
        this.binaries.initdb,
        ['-D', this.dataDir, '-U', 'temporal', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
        { cwd: this.dataDir, uid: this.user?.uid, gid: this.user?.gid },
      );
    } catch (err) {
      rmSync(this.dataDir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(err as Error).message}`, { cause: err });
    } finally {
      rmSync(pwfile, { force: true });
    }
    return true;
  }

  /** The user PostgreSQL runs as must reach its folder through every parent. */
  private checkReachable(): void {
    if (!this.user) return;
    const probe = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', this.dataDir], { uid: this.user.uid, gid: this.user.gid, stdio: 'ignore' });
    if (probe.status !== 0) {
      throw new ServerUnavailableError(
        `PostgreSQL runs as the user "${this.user.name}", who cannot reach ${this.dataDir}: make its parent folders ` +
          'traversable (chmod o+x) or put the cluster in another folder.',
      );
    }
  }

  /** Starts the postmaster; resolves when it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const from = logSize(this.log);
    const postmaster = spawnGuarded(
      this.binaries.postgres,
      [
        '-D', this.dataDir,
        '-p', String(this.port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${this.dataDir}`,
        '-c', 'max_connections=100',
      ],
      { log: this.log, cwd: this.dataDir, uid: this.user?.uid, gid: this.user?.gid },
    );
    this.process = postmaster;
    await waitUntil(
      `PostgreSQL on 127.0.0.1:${this.port}`,
      async () => {
        const text = logTailSince(this.log, from);
        if (!/ready to accept connections/.test(text)) throw new Error('still starting');
        await tcpAnswers(this.port);
      },
      { timeoutMs: 120_000, process: postmaster, log: this.log, logFrom: from, intervalMs: 100 },
    );
  }

  /**
   * SIGKILLs the postmaster and its backends at once, as a crash of the machine would; resolves
   * when all have exited. (Each backend is a session of its own, out of the postmaster's group;
   * one left behind would hold the shared memory a new postmaster needs.)
   */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (!this.process || pid === undefined) return;
    const backends = childrenOf(pid);
    await stopGroup(this.process, 'SIGKILL', 0);
    await killAndReap([...backends, ...childrenOf(pid)]);
  }

  /** Fast shutdown (SIGINT: sessions are ended, data is flushed); SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (!this.process) return;
    await stopGroup(this.process, 'SIGINT', 30_000);
  }
}

function logTailSince(path: string, from: number): string {
  return existsSync(path) ? readFileSync(path).subarray(from).toString() : '';
}

function tcpAnswers(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

/** Makes `dir` traversable by the PostgreSQL user, when it runs as another user. */
export function letPostgresThrough(dir: string): void {
  if (process.getuid?.() === 0) chmodSync(dir, 0o711);
}
