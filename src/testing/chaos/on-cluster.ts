/**
 * A chaos run on the PostgreSQL cluster: the cluster (its own data folder), encryption on, the
 * rack simulator, worker processes, and the unwind client; every part the run kills is a real
 * process. Used by `npm run chaos`, the CI test and the bench.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createUnwindClient } from '../../client';
import type { RackSeed } from '../../rack/schemas';
import { newKeyFile, unwindDataConverter } from '../../temporal/codec';
import { createClusterEnv, spawnWorkerProcess, type ClusterEnv, type ManagedProcess } from '../cluster';
import { startTestRack } from '../rack';
import { fetchHistories, replayHistories } from '../replay';
import { type ChaosOptions, type ChaosReport, type Killable, runChaos } from './index';

/** Room for a thousand sagas' instances and disks, with sleds to replace. */
export const CHAOS_RACK: RackSeed = {
  ipPool: '10.0.0.0/16',
  sleds: Array.from({ length: 8 }, () => ({ cpus: 1024, memoryGiB: 16_384, ssds: [{}, {}, {}] })),
};

/** Options of {@link chaosOnCluster}: the run's, plus where and with how many workers. */
export interface ChaosOnClusterOptions extends ChaosOptions {
  /** Worker processes (2). */
  workers?: number;
  /** The cluster's data folder; a fresh temporary one (removed after) unless told. */
  dataDir?: string;
}

/** Starts everything, runs the chaos, stops everything; the report says what happened. */
export async function chaosOnCluster(options: ChaosOnClusterOptions = {}): Promise<ChaosReport & { dataDir: string }> {
  const progress = options.progress ?? (() => undefined);
  const cluster: ClusterEnv = await createClusterEnv({ dataDir: options.dataDir, progress });
  const stack: (() => Promise<unknown>)[] = [() => cluster.stop()];
  try {
    // Encryption on, as on any cluster: the workers, the client and the replay share the keys.
    const keyFile = join(cluster.dataDir, 'encryption-keys.json');
    if (!existsSync(keyFile)) newKeyFile(keyFile);
    const codecEnv = { UNWIND_ENCRYPTION_KEY_FILE: keyFile };
    const dataConverter = unwindDataConverter(codecEnv);

    const testRack = await startTestRack({ seed: CHAOS_RACK });
    // The rack's database goes with the cluster's: a data folder kept after a failed run holds
    // the ledger beside the histories and the workers' logs.
    stack.push(async () => {
      await testRack.server.close();
      copyFileSync(testRack.dbPath, join(cluster.dataDir, 'rack.sqlite'));
      await testRack.stop();
    });
    const logs = join(cluster.dataDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const workers: ManagedProcess[] = Array.from({ length: options.workers ?? 2 }, (_, i) =>
      spawnWorkerProcess({
        name: `worker ${i + 1}`,
        log: join(logs, `worker-${i + 1}.log`),
        env: { ...cluster.clientEnv(), ...codecEnv, UNWIND_RACK_URL: testRack.server.url, UNWIND_STREAM_CHUNK_MS: '5', UNWIND_LOG_LEVEL: 'ERROR' },
      }),
    );
    stack.push(() => Promise.all(workers.map((w) => w.stop())));
    const client = await createUnwindClient({ address: cluster.address, namespace: cluster.namespace, ...(dataConverter && { dataConverter }) });
    stack.push(() => client.close());

    const since = new Date().toISOString();
    const killables: Killable[] = workers.map((w, i) => ({ name: `worker ${i + 1}`, kill: () => w.kill('SIGKILL'), start: () => w.restart() }));
    const report = await runChaos(
      {
        client,
        rack: testRack.rack,
        sleds: (await testRack.rack.list('sleds')).map((s) => s.id),
        workers: killables,
        server: { name: 'temporal server', kill: () => cluster.killServer(), start: () => cluster.startServer() },
        database: { name: 'postgresql', kill: () => cluster.killPostgres(), start: () => cluster.startPostgres() },
        replayAll: async () => {
          const replay = await replayHistories(fetchHistories(client.temporal, { query: `StartTime >= '${since}'` }), { dataConverter });
          for (const stop of replay.stops) progress(`chaos: ${stop}`);
          return { replayed: replay.replayed, failures: replay.failures.map((f) => ({ workflowId: f.workflowId, what: `does not replay: ${f.error.message}` })) };
        },
      },
      options,
    );
    return { ...report, dataDir: cluster.dataDir };
  } finally {
    for (const stop of stack.reverse()) await stop().catch((error: unknown) => progress(`chaos: stopping: ${(error as Error).message}`));
  }
}
