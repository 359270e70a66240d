/**
 * `npm run chaos [-- options]`: a bounded, seeded chaos run on the PostgreSQL cluster — sagas
 * of every kind with rack faults on, while workers, the Temporal server and (once) PostgreSQL
 * are SIGKILLed and restarted — then the verdict: every saga completed or unwound, the rack's
 * inventory exactly what the completed sagas own, no key applied twice, no orphan, every
 * history replays. Exits 1 on any violation, naming the saga.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chaosOnCluster } from '../src/testing/chaos/on-cluster';
import { renderChaosReport } from '../src/testing/chaos';

const whole = (name: string, min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${text}"`);
  return value;
};

const program = new Command('npm run chaos --')
  .description('Run sagas against the PostgreSQL cluster while killing its parts; check nothing was lost, doubled or left behind.')
  .option('--sagas <n>', 'sagas to run', whole('--sagas', 1), 1_000)
  .option('--seed <n>', 'seed of the mix, the faults and the kills', whole('--seed', 0), 1)
  .option('--concurrency <n>', 'sagas in flight at once', whole('--concurrency', 1), 16)
  .option('--workers <n>', 'worker processes', whole('--workers', 1), 2)
  .option('--worker-kill-every <s>', 'SIGKILL a worker every s seconds (0: never)', whole('--worker-kill-every', 0), 20)
  .option('--server-kill-every <s>', 'SIGKILL the Temporal server every s seconds (0: never)', whole('--server-kill-every', 0), 60)
  .option('--db-kill-at <s>', 'SIGKILL PostgreSQL once, s seconds in (0: never)', whole('--db-kill-at', 0), 90)
  .option('--dir <path>', 'the cluster data folder (kept); a temporary one, removed after, unless given')
  .option('--json <file>', 'also write the report as JSON to this file')
  .addHelpText('after', '\nExample: npm run chaos -- --sagas 100 --worker-kill-every 15 --server-kill-every 40');

async function main(): Promise<void> {
  const o = program.parse().opts<{
    sagas: number; seed: number; concurrency: number; workers: number;
    workerKillEvery: number; serverKillEvery: number; dbKillAt: number; dir?: string; json?: string;
  }>();
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const report = await chaosOnCluster({
    sagas: o.sagas,
    seed: o.seed,
    concurrency: o.concurrency,
    workers: o.workers,
    workerKillEveryMs: o.workerKillEvery * 1000,
    serverKillEveryMs: o.serverKillEvery * 1000,
    databaseKillAtMs: o.dbKillAt * 1000,
    dataDir: o.dir,
    progress: (line) => console.error(line),
  });
  console.log(renderChaosReport(report));
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.violations.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(`chaos: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
