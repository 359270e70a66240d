/**
 * The fleet run on the dev server against a real rack: 10 SSDs per sled, wall time and the
 * history size of every kind of workflow (visibility's HistoryLength), every history under
 * 10,000 events. The suite runs 500 SSDs on 50 sleds; the full fleet (10,000 SSDs on 1,000
 * sleds, 15–20 minutes on two cores) is `npm run bench -- fleet`, which sets `FLEET_SLEDS`.
 *
 * Besides wall time it prints the CPU the rollout cost per SSD, in this process (the worker's
 * workflow thread and main thread, the activities and the in-process rack) and in the dev
 * server: unlike wall time, it hardly moves when other work shares the machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rolloutWorkflowId } from '../src/schemas/firmware';
import { firmwareRolloutStatusQuery, ssdFirmwareRollout } from '../src/workflows';
import { eventually, LOADED_MACHINE_MS } from './helpers/eventually';
import { MODEL, createDisks, fleetSeed } from './helpers/firmware';
import { useRackTestBed } from './helpers/rack-bed';

const SLEDS = Number(process.env.FLEET_SLEDS ?? 50);
const RUN_TIMEOUT_MS = Number(process.env.FLEET_TIMEOUT_MS ?? 45 * 60_000);
const SSDS_PER_SLED = 10;
const CELL = 10; // sleds per cell: a redundancy group is one slot of one cell
const DISKS = SLEDS * 2;
const taskQueue = 'firmware-fleet';

const bed = useRackTestBed({
  taskQueue,
  seed: fleetSeed(SLEDS, SSDS_PER_SLED, (sled, slot) => `cell-${Math.floor(sled / CELL)}-slot-${slot}`),
  rackTimeoutMs: 30_000,
  deps: { backoff: { baseMs: 20, capMs: 500 } },
});

beforeAll(async () => {
  const started = Date.now();
  // Each disk's replicas: three sleds of one cell, three different slots (so three groups).
  const cells = SLEDS / CELL;
  await createDisks(bed.testRack.rack, DISKS, (d) => {
    const cell = d % cells;
    const k = Math.floor(d / cells) % CELL;
    const slot = Math.floor(d / (cells * CELL)) % SSDS_PER_SLED;
    return [0, 1, 2].map((r) => {
      const sled = `sled-${cell * CELL + ((k + 3 * r) % CELL)}`;
      return [sled, `${sled}-ssd-${(slot + r) % SSDS_PER_SLED}`] as [string, string];
    });
  });
  console.log(`fleet of ${SLEDS * SSDS_PER_SLED} SSDs on ${SLEDS} sleds with ${DISKS} disks set up in ${Date.now() - started} ms`);
}, 600_000);

/**
 * CPU time (user + system, ms) of the dev servers this process started, read from /proc; null
 * where there is no /proc.
 */
function devServerCpuMs(): number | null {
  try {
    const tick = 10; // USER_HZ is 100 on Linux
    let ms = 0;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) !== process.pid || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev')) continue;
        ms += (Number(fields[11]) + Number(fields[12])) * tick;
      } catch {
        // the process ended meanwhile
      }
    }
    return ms;
  } catch {
    return null;
  }
}

async function historyLengths(workflowType: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const execution of bed.env.client.workflow.list({ query: `WorkflowType = '${workflowType}'` })) lengths.push(execution.historyLength);
  return lengths;
}

describe(`the fleet: ${SLEDS * SSDS_PER_SLED} SSDs on ${SLEDS} sleds (dev server)`, () => {
  it('updates every SSD with every workflow history under 10,000 events', async () => {
    const target = '3.0.0';
    await bed.testRack.rack.firmware.setTarget({ model: MODEL, version: target }, 'fleet/target');
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const devBefore = devServerCpuMs();
    const progress = setInterval(() => {
      void handle
        .query(firmwareRolloutStatusQuery, {})
        .then((s) => console.log(`fleet: ${Math.round((Date.now() - started) / 1000)} s, ${s.counts.done}/${s.total} done, wave ${s.waves.length}`))
        .catch(() => undefined);
    }, 30_000);
    const handle = await bed.env.client.workflow.start(ssdFirmwareRollout, {
      taskQueue,
      workflowId: rolloutWorkflowId(MODEL, target),
      args: [{ model: MODEL, version: target, options: { untilIdle: true, growthFactor: 4, maxWaveSize: 1_000, pollIntervalMs: 1_000 } }],
    });
    const status = await handle.result().finally(() => clearInterval(progress));
    const wallMs = Date.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const devAfter = devServerCpuMs();
    const perSsd = (ms: number) => (ms / (SLEDS * SSDS_PER_SLED)).toFixed(1);
    expect(status.counts.done).toBe(SLEDS * SSDS_PER_SLED);
    const ssds = await bed.testRack.rack.list('ssds');
    expect(ssds.filter((s) => s.firmwareVersion !== target)).toEqual([]);

    // Visibility is eventually consistent: wait until it lists every per-SSD workflow.
    const updates = await eventually(
      () => historyLengths('ssdFirmwareUpdate'),
      (lengths) => lengths.length === SLEDS * SSDS_PER_SLED,
      `visibility to list all ${SLEDS * SSDS_PER_SLED} ssdFirmwareUpdate workflows`,
      2 * LOADED_MACHINE_MS,
      1_000,
    );
    const rollouts = await historyLengths('ssdFirmwareRollout');
    const waves = await historyLengths('ssdFirmwareWave');
    const max = (xs: number[]) => Math.max(...xs);
    console.log(
      [
        `fleet rollout: ${SLEDS * SSDS_PER_SLED} SSDs in ${wallMs} ms, ${status.waves.length} waves (${status.waves.map((w) => w.size).join(', ')}), ${status.runs} run(s)`,
        `history events: ssdFirmwareRollout ${rollouts.join(', ')}; ssdFirmwareWave max ${max(waves)} (of ${waves.length}); ` +
          `ssdFirmwareUpdate max ${max(updates)} (of ${updates.length})`,
        `CPU per SSD: ${perSsd((cpu.user + cpu.system) / 1000)} ms in this process (worker, activities, rack)` +
          (devBefore === null || devAfter === null ? '' : `, ${perSsd(devAfter - devBefore)} ms in the dev server`),
      ].join('\n'),
    );
    expect(max([...rollouts, ...waves, ...updates])).toBeLessThan(10_000);
  }, RUN_TIMEOUT_MS);
});
