/**
 * The chaos run's verdict can fail: each check, fed a rack that breaks one promise, names it.
 * (The run itself, on the PostgreSQL cluster, is test/chaos.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../src/rack';
import { checkInventory, type ChaosSaga, isUnreachable } from '../src/testing/chaos';

const created = (index: number, instanceId: string, diskId: string, nics = 1): ChaosSaga => ({
  index,
  request: { type: 'instanceCreate', name: `chaos-${index}`, cpus: 1, memoryGiB: 1, diskGiB: 10, nics },
  workflowId: `instance-create/chaos-${index}/r${index}`,
  outcome: 'completed',
  result: { instanceId, diskId, sledId: 's1' },
  decisions: [],
});

/** The rack as one running instance `i1` (disk `d1`, one NIC) leaves it. */
function rackWith(overrides: Partial<Inventory> = {}): Inventory {
  return {
    instances: [{ id: 'i1', name: 'chaos-1', state: 'running', sledId: 's1', cpus: 1, memoryGiB: 1, migrationId: null }],
    vmms: [{ id: 'v1', instanceId: 'i1', sledId: 's1', state: 'running' }],
    disks: [{ id: 'd1', name: 'chaos-1-boot', sizeGiB: 10, instanceId: 'i1' } as Inventory['disks'][number]],
    regions: [],
    ips: [{ ip: '10.0.0.2' } as Inventory['ips'][number]],
    nics: [{ id: 'n1', instanceId: 'i1', ip: '10.0.0.2', mac: 'm' }],
    v2p: [],
    reservations: [{ id: 'r1', sledId: 's1', cpus: 1, memoryGiB: 1, instanceId: 'i1' }],
    total: 6,
    ...overrides,
  };
}

describe('the chaos verdict', () => {
  it('passes a rack that is exactly what the completed sagas own', () => {
    expect(checkInventory([created(1, 'i1', 'd1')], rackWith())).toEqual([]);
  });

  it('names an instance nobody owns, a missing one, a doubled VMM, a stray disk and an orphan', () => {
    const unwound: ChaosSaga = { ...created(2, 'i2', 'd2'), outcome: 'unwound', result: undefined };
    const rack = rackWith({
      instances: [...rackWith().instances, { id: 'i2', name: 'chaos-2', state: 'starting', sledId: 's2', cpus: 1, memoryGiB: 1, migrationId: null }],
      vmms: [...rackWith().vmms, { id: 'v9', instanceId: 'i1', sledId: 's2', state: 'paused' }],
      disks: [...rackWith().disks, { id: 'd7', name: 'stray', sizeGiB: 1, instanceId: null } as Inventory['disks'][number]],
      nics: [...rackWith().nics, { id: 'n8', instanceId: 'gone', ip: '10.0.0.9', mac: 'm' }],
    });
    const found = checkInventory([created(1, 'i1', 'd1'), unwound, created(3, 'i3', 'd3')], rack).map((v) => v.what);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/instance i2 \(chaos-2\) exists, but no completed saga owns it/),
        expect.stringMatching(/instance i3 of a completed create is missing/),
        expect.stringMatching(/instance i1 on s1 has VMMs/),
        expect.stringMatching(/disk d7 \(stray\) exists, but no completed saga owns it/),
        expect.stringMatching(/disk d3 of a completed saga is missing/),
        expect.stringMatching(/orphan: nic n8 of missing instance gone/),
      ]),
    );
  });

  it('expects a deleted instance gone with its boot disk, and an instance still mid-migration is named', () => {
    const deleted: ChaosSaga = { index: 2, request: { type: 'instanceDelete', instanceId: 'i1' }, workflowId: 'instance-delete/i1/x', outcome: 'completed', result: {}, decisions: [] };
    expect(checkInventory([created(1, 'i1', 'd1'), deleted], rackWith()).map((v) => v.what)).toEqual(
      expect.arrayContaining([expect.stringMatching(/instance i1 \(chaos-1\) exists, but no completed saga owns it/), expect.stringMatching(/disk d1 .* no completed saga owns it/)]),
    );
    const migrating = rackWith({ instances: [{ ...rackWith().instances[0]!, migrationId: 'm1' }] });
    expect(checkInventory([created(1, 'i1', 'd1')], migrating).map((v) => v.what)).toEqual([expect.stringMatching(/instance i1 is running \(migration m1\), not running/)]);
  });
});

describe('what the chaos run rides out', () => {
  const grpc = (code: number, message: string) => Object.assign(new Error(`${code} ${message}`), { code });

  it("takes a server still loading its namespaces (either wording) as away, a missing workflow as an answer", () => {
    expect(isUnreachable(grpc(5, 'NOT_FOUND: Namespace default is not found.'))).toBe(true);
    expect(isUnreachable(new Error('Failed to list workflows', { cause: grpc(5, 'NOT_FOUND: Namespace default is not found.') }))).toBe(true);
    expect(isUnreachable(grpc(5, 'NOT_FOUND: Namespace not found'))).toBe(true);
    expect(isUnreachable(grpc(14, 'UNAVAILABLE: No connection established'))).toBe(true);
    expect(isUnreachable(grpc(5, 'NOT_FOUND: workflow execution not found for ID: disk-create/x'))).toBe(false);
    expect(isUnreachable(grpc(3, 'INVALID_ARGUMENT: bad query'))).toBe(false);
  });
});
