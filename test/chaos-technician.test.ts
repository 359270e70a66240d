/**
 * The chaos run's technician against a real rack whose faults hit its own calls too: an unknown
 * outcome is tried again with the same key (the swap applied once), never the end of the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorActionRefusedError } from '../src/client';
import { type TestRack, startTestRack } from '../src/testing';
import { swapAndReport } from '../src/testing/chaos/technician';
import { fleetSeed } from './helpers/firmware';

let testRack: TestRack;
beforeAll(async () => {
  testRack = await startTestRack({ seed: fleetSeed(2, 1) });
});
afterAll(async () => {
  await testRack?.stop();
});

/** The saga's side of the report: refuses until `ready`, records each report taken. */
function saga(ready = true) {
  const reports: string[] = [];
  const client = {
    sleds: {
      hardwareReplaced: async (workflowId: string, report: { serial: string }) => {
        if (!ready) throw new OperatorActionRefusedError(workflowId, 'hardwareReplaced', 'the saga does not wait for hardware');
        reports.push(report.serial);
        return { accepted: true };
      },
    },
  } as unknown as Parameters<typeof swapAndReport>[1];
  return { client, reports };
}

const never = () => false;

describe('the chaos technician', () => {
  it.each(['transient', 'ambiguous'] as const)('looks again after a %s rack failure and swaps once, with the same key', async (kind) => {
    await testRack.rack.faults.script({ operation: 'sleds.update', kind, count: 1 });
    const { client, reports } = saga();
    const swap = { workflowId: `sled-replace/${kind}`, sledId: 'sled-0', serial: `NEW-${kind}`, key: `chaos/1/${kind}/swap` };
    expect(await swapAndReport(testRack.rack, client, swap, never)).toBe(false);
    expect(reports).toEqual([]);
    expect(await swapAndReport(testRack.rack, client, swap, never)).toBe(true);
    expect(reports).toEqual([`NEW-${kind}`]);
    expect(await testRack.rack.get('sleds', 'sled-0')).toMatchObject({ serial: `NEW-${kind}` });
    expect((await testRack.rack.ledger({ keyPrefix: swap.key })).filter((e) => e.key === swap.key)).toHaveLength(1);
  });

  it('looks again while the saga refuses the report, and fails on a refusal of the rack', async () => {
    const waiting = saga(false);
    expect(await swapAndReport(testRack.rack, waiting.client, { workflowId: 'w', sledId: 'sled-1', serial: 'S-1', key: 'chaos/1/r/swap' }, never)).toBe(false);
    await expect(swapAndReport(testRack.rack, saga().client, { workflowId: 'w', sledId: 'sled-9', serial: 'S-9', key: 'chaos/1/x/swap' }, never)).rejects.toThrow(/sled-9/);
  });
});
