/**
 * The rack simulator's contract as sagas rely on it, over real HTTP, a fresh rack per test:
 * idempotency keys, names, the ledger, faults, transactions, invalid requests, undos by the key
 * of an action that never applied, reverts, and bad input. One file past 400 lines because it
 * is one contract, read in one place; each describe block is one clause of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type MutationInput,
  type MutationName,
  type RackClient,
  type ResourceName,
  type UndoName,
  RackError,
  RackUnreachableError,
  createRackClient,
  isRackError,
  isTransientRackFailure,
  mulberry32,
  mutations,
  resources,
} from '../src/rack';
import { type TestRack, failureOf, startTestRack } from '../src/testing/rack';

let t: TestRack;
beforeEach(async () => {
  t = await startTestRack();
});
afterEach(async () => {
  await t.stop();
});

const instance = { name: 'web-1', cpus: 2, memoryGiB: 8 };

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.server.url}${path}`, { method: 'POST', body, headers });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, never> };
}

describe('idempotency keys', () => {
  it('replays the first result for a repeated key and applies the effect once', async () => {
    const first = await post('/v1/instances/create', JSON.stringify(instance), { 'Idempotency-Key': 'wf-1/create' });
    const again = await post('/v1/instances/create', JSON.stringify(instance), { 'Idempotency-Key': 'wf-1/create' });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await t.rack.ledger({ key: 'wf-1/create' })).toHaveLength(1);
    expect(await t.rack.list('instances')).toHaveLength(1);
  });

  it('refuses a key reused for a different request, and a mutation without a key', async () => {
    await t.rack.instances.create(instance, 'k');
    const reused = await failureOf(t.rack.instances.create({ ...instance, cpus: 4 }, 'k'));
    expect(reused).toMatchObject({ status: 409, code: 'key-reused', class: 'refused', field: 'Idempotency-Key' });
    const otherOp = await failureOf(t.rack.disks.create({ name: 'd', sizeGiB: 10 }, 'k'));
    expect(otherOp).toMatchObject({ code: 'key-reused' });
    const missing = await post('/v1/instances/create', JSON.stringify(instance));
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ error: { code: 'missing-idempotency-key', field: 'Idempotency-Key', class: 'refused' } });
    expect(await t.rack.ledger()).toHaveLength(1);
  });

  it('undoes by the action key, idempotently, and succeeds when the action never happened', async () => {
    const created = await t.rack.instances.create(instance, 'wf/create');
    expect(await t.rack.instances.delete({ actionKey: 'wf/create' }, 'wf/create:undo')).toEqual({ undone: true, resourceId: created.id });
    // Same undo key: the first result. New undo key: nothing left, still a success.
    expect(await t.rack.instances.delete({ actionKey: 'wf/create' }, 'wf/create:undo')).toEqual({ undone: true, resourceId: created.id });
    expect(await t.rack.instances.delete({ actionKey: 'wf/create' }, 'wf/create:undo2')).toEqual({ undone: false, resourceId: created.id });
    expect(await t.rack.regions.delete({ actionKey: 'never-ran' }, 'never-ran:undo')).toEqual({ undone: false, resourceId: null });
    expect((await t.rack.ledger({ operation: 'instances.delete' })).map((e) => e.effect)).toEqual(['deleted']);
  });

  it('refuses an action whose key was undone before it arrived (a late retry leaks nothing)', async () => {
    await t.rack.vmms.destroy({ actionKey: 'wf/vmm' }, 'wf/vmm:undo');
    const created = await t.rack.instances.create(instance, 'wf/instance');
    const late = await failureOf(t.rack.vmms.create({ instanceId: created.id, sledId: 'sled-0' }, 'wf/vmm'));
    expect(late).toMatchObject({ status: 409, code: 'key-undone', class: 'refused' });
    expect(await t.rack.list('vmms')).toEqual([]);
  });

  it('refuses an undo naming the key of a different kind of action', async () => {
    await t.rack.disks.create({ name: 'd', sizeGiB: 10 }, 'wf/disk');
    const error = await failureOf(t.rack.regions.delete({ actionKey: 'wf/disk' }, 'wf/disk:undo'));
    expect(error).toMatchObject({ code: 'key-mismatch', field: 'actionKey', class: 'refused' });
    expect(await t.rack.list('disks')).toHaveLength(1);
  });
});

describe('names', () => {
  it('refuses a second live instance or disk of one name, applying nothing; the name is free again once its resource is gone', async () => {
    const first = await t.rack.instances.create(instance, 'a/create');
    const taken = await failureOf(t.rack.instances.create(instance, 'b/create'));
    expect(taken).toMatchObject({ status: 409, code: 'name-taken', class: 'refused', field: 'name' });
    expect(String((taken as Error).message)).toContain(`an instance named web-1 exists (${first.id})`);
    await t.rack.disks.create({ name: 'data-1', sizeGiB: 1 }, 'a/disk');
    expect(await failureOf(t.rack.disks.create({ name: 'data-1', sizeGiB: 2 }, 'b/disk'))).toMatchObject({ code: 'name-taken' });
    expect(await t.rack.ledger({ key: 'b/create' })).toEqual([]);

    await t.rack.instances.delete({ actionKey: 'a/create' }, 'a/create/undo');
    const again = await t.rack.instances.create(instance, 'c/create');
    expect(again.id).not.toBe(first.id);
  });
});

describe('the ledger', () => {
  it('filters by key prefix, matching % and _ as they are', async () => {
    await t.rack.instances.create({ ...instance, name: 'a' }, 'wf_1/create');
    await t.rack.instances.create({ ...instance, name: 'b' }, 'wf_1/create/2');
    await t.rack.instances.create({ ...instance, name: 'c' }, 'wfx1/create');
    await t.rack.instances.create({ ...instance, name: 'd' }, 'other/create');
    expect((await t.rack.ledger({ keyPrefix: 'wf_1/' })).map((e) => e.key)).toEqual(['wf_1/create', 'wf_1/create/2']);
    expect((await t.rack.ledger({ keyPrefix: 'wf_1/create', operation: 'instances.create' })).map((e) => e.key)).toEqual(['wf_1/create', 'wf_1/create/2']);
    const badPrefix = await fetch(`${t.server.url}/v1/ledger?keyPrefix=`);
    expect(badPrefix.status).toBe(400);
  });
});

describe('faults', () => {
  it('ambiguous: applies and commits, answers 503; a retry with the same key returns the first result', async () => {
    const disk = await t.rack.disks.create({ name: 'd', sizeGiB: 10 }, 'wf/disk');
    await t.rack.faults.script({ operation: 'regions.ensure', kind: 'ambiguous' });
    const error = await failureOf(t.rack.regions.ensure({ diskId: disk.id }, 'wf/region[0]'));
    expect(error).toBeInstanceOf(RackError);
    expect(error).toMatchObject({ status: 503, class: 'transient', code: 'unavailable' });
    expect(isTransientRackFailure(error)).toBe(true);
    const effects = await t.rack.ledger({ key: 'wf/region[0]' });
    expect(effects).toHaveLength(1);

    const region = await t.rack.regions.ensure({ diskId: disk.id }, 'wf/region[0]');
    expect(region.id).toBe(effects[0]?.resourceId);
    expect(await t.rack.ledger({ key: 'wf/region[0]' })).toHaveLength(1);
    expect(await t.rack.list('regions')).toHaveLength(1);
  });

  it('scripted one-shot faults fail exactly the next N calls of that operation, applying nothing', async () => {
    await t.rack.faults.script({ operation: 'sleds.reserve', kind: 'transient', count: 2 });
    const reserve = () => t.rack.sleds.reserve({ sledId: 'sled-0', cpus: 4, memoryGiB: 16 }, 'wf/reserve');
    expect(await failureOf(reserve())).toMatchObject({ status: 503, class: 'transient' });
    // Other operations are unaffected and do not consume the script.
    await t.rack.instances.create(instance, 'wf/instance');
    expect(await failureOf(reserve())).toMatchObject({ status: 503, class: 'transient' });
    expect(await t.rack.ledger({ operation: 'sleds.reserve' })).toEqual([]);
    expect((await reserve()).cpus).toBe(4);
    expect((await t.rack.faults.get()).scripted).toEqual([]);
    expect(await t.rack.ledger({ operation: 'sleds.reserve' })).toHaveLength(1);
  });

  it.each([
    ['refused', 'refused'],
    ['needs-operator', 'needs-operator'],
    ['unknown-state', 'unknown-state'],
  ] as const)('a scripted %s fault answers its class and applies nothing', async (kind, errorClass) => {
    await t.rack.faults.script({ operation: 'disks.create', kind });
    const error = await failureOf(t.rack.disks.create({ name: 'd', sizeGiB: 1 }, 'wf/disk'));
    expect(error).toMatchObject({ status: 409, class: errorClass });
    expect(isTransientRackFailure(error)).toBe(false);
    expect(await t.rack.list('disks')).toEqual([]);
  });

  it('a permanent rule fails every call until cleared', async () => {
    await t.rack.faults.setRule({ operation: 'ips.allocate', permanent: 'needs-operator' });
    for (const key of ['a', 'b']) {
      expect(await failureOf(t.rack.ips.allocate({}, key))).toMatchObject({ class: 'needs-operator' });
    }
    await t.rack.faults.clear('ips.allocate');
    expect((await t.rack.ips.allocate({}, 'a')).ip).toBe('10.0.0.1');
  });

  it('transient rate: a seeded PRNG gives the same failures on every run, and failed calls apply nothing', async () => {
    const run = async (round: number) => {
      await t.rack.faults.seed(42);
      await t.rack.faults.setRule({ operation: 'instances.create', transientRate: 0.5 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(await t.rack.instances.create({ ...instance, name: `web-${round}-${i}` }, `r${round}/${i}`).then(() => true, () => false));
      }
      return outcomes;
    };
    const first = await run(1);
    const second = await run(2);
    expect(second).toEqual(first);
    const successes = first.filter(Boolean).length;
    expect(successes).toBeGreaterThan(8);
    expect(successes).toBeLessThan(32);
    expect(await t.rack.list('instances')).toHaveLength(2 * successes);
  });

  it('reads can be faulted by <resource>.list / <resource>.get, and a lost read answer is transient', async () => {
    await t.rack.faults.script({ operation: 'sleds.list', kind: 'transient' });
    await t.rack.faults.script({ operation: 'sleds.get', kind: 'ambiguous' });
    expect(await failureOf(t.rack.list('sleds'))).toMatchObject({ status: 503, class: 'transient' });
    expect(await failureOf(t.rack.get('sleds', 'sled-0'))).toMatchObject({ status: 503, class: 'transient' });
    expect(await t.rack.list('sleds')).toHaveLength(8);
    expect(await t.rack.get('sleds', 'sled-0')).toMatchObject({ id: 'sled-0' });
  });

  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect([c(), c(), c()]).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('latency past the client timeout is a transient timeout; the late action after its undo is fenced off', async () => {
    await t.rack.faults.setRule({ operation: 'instances.create', latencyMs: 400 });
    const impatient = createRackClient({ baseUrl: t.server.url, timeoutMs: 100 });
    const error = await failureOf(impatient.instances.create(instance, 'wf/slow'));
    expect(error).toBeInstanceOf(RackUnreachableError);
    expect(error).toMatchObject({ reason: 'timeout', class: 'transient' });
    expect(isTransientRackFailure(error)).toBe(true);
    // The saga unwinds while the action is still in flight on the server.
    expect(await t.rack.instances.delete({ actionKey: 'wf/slow' }, 'wf/slow:undo')).toEqual({ undone: false, resourceId: null });
    // A second delivery, as slow, is answered after the first one ran (sent later, same latency): refused by the fence too.
    const patient = createRackClient({ baseUrl: t.server.url, timeoutMs: 60_000 });
    expect(await failureOf(patient.instances.create(instance, 'wf/slow'))).toMatchObject({ status: 409, code: 'key-undone' });
    expect((await t.rack.inventory()).total).toBe(0);
    expect(await t.rack.ledger({ key: 'wf/slow' })).toEqual([]);
  });

  it('an unreachable rack is a transient network failure', async () => {
    const url = t.server.url;
    await t.server.close();
    const client = createRackClient({ baseUrl: url, timeoutMs: 1_000 });
    const error = await failureOf(client.instances.create(instance, 'x'));
    expect(error).toMatchObject({ reason: 'network', class: 'transient' });
    expect(isRackError(error)).toBe(false);
    expect(isTransientRackFailure(error)).toBe(true);
    await t.restart();
  });
});

describe('transactions', () => {
  it('a request failing after its effect (crash) leaves nothing: no row, no ledger, key unused', async () => {
    await t.rack.faults.script({ operation: 'disks.create', kind: 'crash' });
    const error = await failureOf(t.rack.disks.create({ name: 'd', sizeGiB: 10 }, 'wf/disk'));
    expect(error).toMatchObject({ status: 500, class: 'transient' });
    expect(await t.rack.list('disks')).toEqual([]);
    expect(await t.rack.ledger()).toEqual([]);
    const disk = await t.rack.disks.create({ name: 'd', sizeGiB: 10 }, 'wf/disk');
    expect(await t.rack.list('disks')).toEqual([disk]);
    expect(await t.rack.ledger({ key: 'wf/disk' })).toHaveLength(1);
  });

  it('a refused undo changes nothing and the key stays usable after the cause is fixed', async () => {
    const created = await t.rack.instances.create(instance, 'wf/i');
    const vmm = await t.rack.vmms.create({ instanceId: created.id, sledId: 'sled-1' }, 'wf/vmm');
    const error = await failureOf(t.rack.instances.delete({ id: created.id }, 'wf/i:undo'));
    expect(error).toMatchObject({ status: 409, code: 'in-use', class: 'refused' });
    expect((error as Error).message).toContain('1 VMMs');
    expect(await t.rack.list('instances')).toHaveLength(1);
    await t.rack.vmms.destroy({ id: vmm.id }, 'wf/vmm:undo');
    expect(await t.rack.instances.delete({ id: created.id }, 'wf/i:undo')).toMatchObject({ undone: true });
  });
});

describe('invalid requests', () => {
  it('answers 400 naming every bad field, nested ones by path', async () => {
    const error = await failureOf(
      t.rack.call('instances.update', { instanceId: '', state: 'flying', expect: { state: 'nope' }, colour: 'red' } as never, 'k'),
    );
    expect(error).toMatchObject({ status: 400, code: 'invalid-request', class: 'refused', field: 'instanceId' });
    expect((error as RackError).issues?.map((i) => i.field).sort()).toEqual(['colour', 'expect.state', 'instanceId', 'state']);
    expect(await t.rack.ledger()).toEqual([]);
  });

  it('answers 400 for malformed JSON, an ambiguous undo, and an unknown filter', async () => {
    const raw = await post('/v1/disks/create', '{"name":', { 'Idempotency-Key': 'k' });
    expect(raw.status).toBe(400);
    expect(raw.json).toMatchObject({ error: { code: 'invalid-json', class: 'refused' } });
    const both = await failureOf(t.rack.disks.delete({ actionKey: 'a', id: 'b' }, 'k'));
    expect(both).toMatchObject({ status: 400, field: 'actionKey' });
    const filter = await failureOf(t.rack.list('sleds', { colour: 'red' } as never));
    expect(filter).toMatchObject({ status: 400, field: 'colour' });
  });

  it('answers 404 with the field that held an unknown id', async () => {
    const error = await failureOf(t.rack.vmms.create({ instanceId: 'nope', sledId: 'sled-0' }, 'k'));
    expect(error).toMatchObject({ status: 404, code: 'not-found', field: 'instanceId', class: 'refused' });
    expect(await failureOf(t.rack.get('sleds', 'sled-99'))).toMatchObject({ status: 404, code: 'not-found' });
  });
});

// ---------------------------------------------------------------------------------------
// Undoing what never happened (issue 9 §1)

type ActionOf<U extends UndoName> = (typeof mutations)[U]['undoes'];

/**
 * For every undo of the registry: prepares the rack so that its action would apply, and returns
 * that action's input. Typed over `UndoName`, so a new undo does not compile until it is here.
 */
const lateActions: { [U in UndoName]: (rack: RackClient) => Promise<MutationInput<ActionOf<U>>> } = {
  'sleds.release': async () => ({ sledId: 'sled-0', cpus: 2, memoryGiB: 4 }),
  'sleds.revert': async () => ({ sledId: 'sled-2', provisionable: false, state: 'offline' }),
  'ssds.online': async () => ({ ssdId: 'sled-0-ssd-0' }),
  'ssds.revert': async () => ({ ssdId: 'sled-3-ssd-1', health: 'degraded', firmwareVersion: '9.9.9' }),
  'ssds.clearFirmware': async (rack) => {
    await rack.ssds.offline({ ssdId: 'sled-1-ssd-0' }, 'setup/offline');
    return { ssdId: 'sled-1-ssd-0', version: '9.9.9' };
  },
  'instances.delete': async () => ({ name: 'late', cpus: 1, memoryGiB: 1 }),
  'instances.revert': async (rack) => {
    const vm = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'setup/instance');
    return { instanceId: vm.id, state: 'starting', sledId: 'sled-4', expect: { state: 'creating' } };
  },
  'vmms.destroy': async (rack) => {
    const vm = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'setup/instance');
    return { instanceId: vm.id, sledId: 'sled-0' };
  },
  'vmms.revert': async (rack) => {
    const vm = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'setup/instance');
    const vmm = await rack.vmms.create({ instanceId: vm.id, sledId: 'sled-0' }, 'setup/vmm');
    return { vmmId: vmm.id, state: 'paused' };
  },
  'disks.delete': async () => ({ name: 'late', sizeGiB: 10 }),
  'disks.detach': async (rack) => {
    const vm = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'setup/instance');
    const disk = await rack.disks.create({ name: 'd', sizeGiB: 10 }, 'setup/disk');
    return { diskId: disk.id, instanceId: vm.id };
  },
  'regions.delete': async (rack) => {
    const disk = await rack.disks.create({ name: 'd', sizeGiB: 10 }, 'setup/disk');
    return { diskId: disk.id };
  },
  'ips.release': async () => ({}),
  'nics.delete': async (rack) => {
    const vm = await rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'setup/instance');
    const ip = await rack.ips.allocate({}, 'setup/ip');
    return { instanceId: vm.id, ip: ip.ip };
  },
  'v2p.clear': async () => ({ sledId: 'sled-0', virtualIp: '10.0.0.77', physicalSledId: 'sled-5' }),
};

const undoNames = (Object.keys(mutations) as MutationName[]).filter((name): name is UndoName => 'undoes' in mutations[name]);

/** Every resource of the rack, hardware included: what "changes no resource" compares. */
async function everything(rack: RackClient) {
  const names = Object.keys(resources) as ResourceName[];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await rack.list(name)] as const)));
}

describe('every undo, by the key of an action that never applied', () => {
  it('the list of late actions covers exactly the registry\'s undos', () => {
    expect(Object.keys(lateActions).sort()).toEqual([...undoNames].sort());
    expect(undoNames.length).toBeGreaterThanOrEqual(15);
  });

  it.each(undoNames)('%s succeeds, changes nothing, and fences the key against a late delivery', async (name) => {
    const action = mutations[name].undoes;
    const input = await lateActions[name](t.rack);
    const before = await everything(t.rack);
    const ledgerBefore = await t.rack.ledger();

    const result = await t.rack.call(name, { actionKey: 'wf/never' }, 'wf/never/undo');
    expect(result).toMatchObject({ undone: false, resourceId: null });
    expect(await everything(t.rack)).toEqual(before);
    expect(await t.rack.ledger()).toEqual(ledgerBefore);

    // The action, delivered late under the undone key, is refused and applies nothing.
    const late = await failureOf(t.rack.call(action, input as never, 'wf/never'));
    expect(late).toMatchObject({ status: 409, code: 'key-undone', class: 'refused', field: 'Idempotency-Key' });
    expect(await everything(t.rack)).toEqual(before);
    // Undoing again (a retried undo) is still a success that changes nothing.
    expect(await t.rack.call(name, { actionKey: 'wf/never' }, 'wf/never/undo#2')).toMatchObject({ undone: false });
    expect(await t.rack.ledger()).toEqual(ledgerBefore);

    // Control: the same input under a fresh key applies, so the refusal above was the fence's.
    await t.rack.call(action, input as never, 'wf/fresh');
    expect(await t.rack.ledger({ key: 'wf/fresh' })).not.toEqual([]);
  });
});

describe('reverting an update by its action key', () => {
  const sled = (id = 'sled-2') => t.rack.get('sleds', id);

  it('restores exactly the values the update replaced, only the fields it named', async () => {
    await t.rack.sleds.update({ sledId: 'sled-2', serial: 'HAND-1' }, 'operator/serial');
    await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false, state: 'offline' }, 'wf/mark');
    expect(await sled()).toMatchObject({ provisionable: false, state: 'offline', serial: 'HAND-1' });
    const result = await t.rack.sleds.revert({ actionKey: 'wf/mark' }, 'wf/mark/undo');
    expect(result).toEqual({ undone: true, resourceId: 'sled-2', restored: { provisionable: true, state: 'online' }, kept: [] });
    expect(await sled()).toMatchObject({ provisionable: true, state: 'online', serial: 'HAND-1' });
    expect((await t.rack.ledger({ key: 'wf/mark/undo' })).map((e) => [e.resourceId, e.effect])).toEqual([['sled-2', 'updated']]);
    // Idempotent: the same undo key replays; a new one finds nothing left to revert.
    expect(await t.rack.sleds.revert({ actionKey: 'wf/mark' }, 'wf/mark/undo')).toEqual(result);
    expect(await t.rack.sleds.revert({ actionKey: 'wf/mark' }, 'wf/mark/undo#2')).toMatchObject({ undone: false, restored: {}, kept: [] });
    expect(await t.rack.ledger({ key: 'wf/mark/undo#2' })).toEqual([]);
  });

  it('keeps a non-default previous value: a sled drained by hand stays drained', async () => {
    await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false }, 'operator/drain');
    await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false }, 'replace/mark');
    expect(await t.rack.sleds.revert({ actionKey: 'replace/mark' }, 'replace/mark/undo')).toMatchObject({
      undone: false, restored: { provisionable: false }, kept: [],
    });
    expect((await sled()).provisionable).toBe(false);
    expect(await t.rack.ledger({ key: 'replace/mark/undo' })).toEqual([]);
  });

  it('leaves a field someone changed since, says so, and hands its previous value to the later change', async () => {
    await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false }, 'replace/mark');
    await t.rack.sleds.update({ sledId: 'sled-2', provisionable: true }, 'operator/readmit');
    const result = await t.rack.sleds.revert({ actionKey: 'replace/mark' }, 'replace/mark/undo');
    expect(result).toMatchObject({ undone: false, resourceId: 'sled-2', restored: {} });
    expect(result.kept).toEqual([{ field: 'provisionable', value: true, reason: expect.stringContaining('operator/readmit') }]);
    expect((await sled()).provisionable).toBe(true);
    // Reverting the operator's change now goes back to before the replacement: true.
    await t.rack.sleds.revert({ actionKey: 'operator/readmit' }, 'operator/readmit/undo');
    expect((await sled()).provisionable).toBe(true);
  });

  it('does not re-open a sled that another replacement is taking out of service, in either order', async () => {
    for (const [first, second] of [['a', 'b'], ['b', 'a']] as const) {
      await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false }, `${first}-${second}/a/mark`);
      await t.rack.sleds.update({ sledId: 'sled-2', provisionable: false }, `${first}-${second}/b/mark`);
      await t.rack.sleds.revert({ actionKey: `${first}-${second}/${first}/mark` }, `${first}-${second}/${first}/undo`);
      expect((await sled()).provisionable, `after ${first} unwound, ${second} still replacing`).toBe(false);
      await t.rack.sleds.revert({ actionKey: `${first}-${second}/${second}/mark` }, `${first}-${second}/${second}/undo`);
      expect((await sled()).provisionable, `after both unwound (${first} first)`).toBe(true);
    }
  });

  it('reverts instance, VMM and SSD updates field by field', async () => {
    const vm = await t.rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'c/instance');
    await t.rack.instances.update({ instanceId: vm.id, state: 'starting', sledId: 'sled-3' }, 'c/start');
    await t.rack.instances.update({ instanceId: vm.id, state: 'running' }, 'c/running');
    await t.rack.instances.update(
      { instanceId: vm.id, state: 'migrating', migrationId: 'm1', expect: { state: 'running', migrationId: null } },
      'm/mark',
    );
    expect(await t.rack.instances.revert({ actionKey: 'm/mark' }, 'm/mark/undo')).toMatchObject({
      undone: true, restored: { state: 'running', migrationId: null }, kept: [],
    });
    expect(await t.rack.instances.revert({ actionKey: 'c/running' }, 'c/running/undo')).toMatchObject({ restored: { state: 'starting' } });
    expect(await t.rack.instances.revert({ actionKey: 'c/start' }, 'c/start/undo')).toMatchObject({
      restored: { state: 'creating', sledId: null },
    });
    expect(await t.rack.get('instances', vm.id)).toEqual(vm);

    const vmm = await t.rack.vmms.create({ instanceId: vm.id, sledId: 'sled-3' }, 'c/vmm');
    await t.rack.vmms.update({ vmmId: vmm.id, state: 'paused' }, 'm/pause');
    expect(await t.rack.vmms.revert({ actionKey: 'm/pause' }, 'm/pause/undo')).toMatchObject({ undone: true, restored: { state: 'running' } });
    expect(await t.rack.get('vmms', vmm.id)).toEqual(vmm);

    const ssd = await t.rack.get('ssds', 'sled-4-ssd-0');
    await t.rack.ssds.update({ ssdId: ssd.id, health: 'degraded', firmwareVersion: '1.1.0' }, 'op/ssd');
    await t.rack.ssds.update({ ssdId: ssd.id, health: 'failed' }, 'op/ssd-2');
    // health was changed since: kept; the firmware version is still what the update set: restored.
    expect(await t.rack.ssds.revert({ actionKey: 'op/ssd' }, 'op/ssd/undo')).toMatchObject({
      undone: true, restored: { firmwareVersion: '1.0.0' }, kept: [{ field: 'health', value: 'failed' }],
    });
    await t.rack.ssds.revert({ actionKey: 'op/ssd-2' }, 'op/ssd-2/undo');
    expect(await t.rack.get('ssds', ssd.id)).toEqual(ssd);
  });

  it('clearing written firmware restores what was staged before, and only if it still holds the write', async () => {
    await t.rack.ssds.offline({ ssdId: 'sled-1-ssd-0' }, 'f/offline');
    await t.rack.ssds.updateFirmware({ ssdId: 'sled-1-ssd-0', version: '2.0.0' }, 'f/write-1');
    await t.rack.ssds.updateFirmware({ ssdId: 'sled-1-ssd-0', version: '3.0.0' }, 'f/write-2');
    expect(await t.rack.ssds.clearFirmware({ actionKey: 'f/write-1' }, 'f/write-1/undo')).toMatchObject({ undone: false });
    expect((await t.rack.get('ssds', 'sled-1-ssd-0')).stagedFirmware).toBe('3.0.0');
    expect(await t.rack.ssds.clearFirmware({ actionKey: 'f/write-2' }, 'f/write-2/undo')).toMatchObject({ undone: true });
    expect((await t.rack.get('ssds', 'sled-1-ssd-0')).stagedFirmware).toBeNull();
  });

  describe('undoing a firmware write a reset booted', () => {
    const ssdId = 'sled-1-ssd-0';
    const ssd = () => t.rack.get('ssds', ssdId);
    /** Takes the drive offline, writes `version` under key `<k>/write` and resets it. */
    async function writeAndReset(k: string, version = '2.0.0') {
      await t.rack.ssds.offline({ ssdId }, `${k}/offline`);
      await t.rack.ssds.updateFirmware({ ssdId, version }, `${k}/write`);
      await t.rack.ssds.reset({ ssdId }, `${k}/reset`);
    }

    it('rolls the drive back to the firmware it ran before, with a ledger row, once', async () => {
      await writeAndReset('b');
      expect(await ssd()).toMatchObject({ state: 'offline', firmwareVersion: '2.0.0', stagedFirmware: null }); // back, booted
      const result = await t.rack.ssds.clearFirmware({ actionKey: 'b/write' }, 'b/write/undo');
      expect(result).toEqual({ undone: true, resourceId: ssdId, restored: { firmwareVersion: '1.0.0' }, kept: [] });
      expect(await ssd()).toMatchObject({ state: 'offline', firmwareVersion: '1.0.0', stagedFirmware: null });
      expect((await t.rack.ledger({ key: 'b/write/undo' })).map((e) => [e.operation, e.resourceType, e.resourceId, e.effect])).toEqual([
        ['ssds.clearFirmware', 'ssd', ssdId, 'updated'],
      ]);
      // A retried undo replays; a new key finds nothing left to roll back.
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'b/write' }, 'b/write/undo')).toEqual(result);
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'b/write' }, 'b/write/undo#2')).toMatchObject({ undone: false, restored: {}, kept: [] });
      expect(await t.rack.ledger({ key: 'b/write/undo#2' })).toEqual([]);
      // The saga's next undo brings it back into service as it found it.
      await t.rack.ssds.online({ actionKey: 'b/offline' }, 'b/offline/undo');
      expect(await ssd()).toMatchObject({ state: 'online', firmwareVersion: '1.0.0', stagedFirmware: null });
    });

    it('rolls back a drive nobody observed since its reset (the undo sees it come back)', async () => {
      await writeAndReset('u');
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'u/write' }, 'u/write/undo')).toMatchObject({
        undone: true, restored: { firmwareVersion: '1.0.0' }, kept: [],
      });
      expect(await ssd()).toMatchObject({ state: 'offline', firmwareVersion: '1.0.0' });
    });

    it("keeps someone's later update of the firmware and says whose", async () => {
      await writeAndReset('k');
      await ssd(); // back on 2.0.0
      await t.rack.ssds.update({ ssdId, firmwareVersion: '2.1.0' }, 'op/fw');
      const result = await t.rack.ssds.clearFirmware({ actionKey: 'k/write' }, 'k/write/undo');
      expect(result).toMatchObject({ undone: false, resourceId: ssdId, restored: {} });
      expect(result.kept).toEqual([{ field: 'firmwareVersion', value: '2.1.0', reason: expect.stringContaining('op/fw') }]);
      expect((await ssd()).firmwareVersion).toBe('2.1.0');
      expect(await t.rack.ledger({ key: 'k/write/undo' })).toEqual([]);
    });

    it('keeps a later firmware write another reset booted', async () => {
      await writeAndReset('k');
      await ssd(); // back on 2.0.0
      await t.rack.ssds.updateFirmware({ ssdId, version: '3.0.0' }, 'other/write');
      await t.rack.ssds.reset({ ssdId }, 'other/reset');
      const result = await t.rack.ssds.clearFirmware({ actionKey: 'k/write' }, 'k/write/undo');
      expect(result).toMatchObject({ undone: false, restored: {} });
      expect(result.kept).toEqual([{ field: 'firmwareVersion', value: '3.0.0', reason: expect.stringContaining('other/write') }]);
      expect((await ssd()).firmwareVersion).toBe('3.0.0');
      // The later write, undone, goes back to before both: the first one was taken out of the history.
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'other/write' }, 'other/write/undo')).toMatchObject({
        undone: true, restored: { firmwareVersion: '1.0.0' },
      });
    });

    it('keeps the firmware of a drive someone brought back into service', async () => {
      await writeAndReset('o');
      await t.rack.ssds.online({ id: ssdId }, 'op/online');
      const result = await t.rack.ssds.clearFirmware({ actionKey: 'o/write' }, 'o/write/undo');
      expect(result).toMatchObject({ undone: false, restored: {} });
      expect(result.kept).toEqual([{ field: 'firmwareVersion', value: '2.0.0', reason: expect.stringContaining('online') }]);
      expect(await ssd()).toMatchObject({ state: 'online', firmwareVersion: '2.0.0' });
    });

    it('needs nothing for a drive that came back on its old firmware (the update failed)', async () => {
      await t.rack.faults.drive({ ssdId, kind: 'update-fails' });
      await writeAndReset('f');
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'f/write' }, 'f/write/undo')).toEqual({
        undone: false, resourceId: ssdId, restored: {}, kept: [],
      });
      expect(await ssd()).toMatchObject({ state: 'offline', firmwareVersion: '1.0.0', stagedFirmware: null });
      expect(await t.rack.ledger({ key: 'f/write/undo' })).toEqual([]);
    });

    it('waits for an operator while the drive has not come back, then rolls back', async () => {
      await t.rack.faults.drive({ ssdId, kind: 'never-returns' });
      await writeAndReset('n');
      const before = await t.rack.ledger();
      expect(await failureOf(t.rack.ssds.clearFirmware({ actionKey: 'n/write' }, 'n/write/undo'))).toMatchObject({
        code: 'ssd-not-returned', class: 'needs-operator',
      });
      expect(await t.rack.ledger()).toEqual(before);
      await t.rack.faults.clearDrive(ssdId);
      expect(await t.rack.ssds.clearFirmware({ actionKey: 'n/write' }, 'n/write/undo')).toMatchObject({
        undone: true, restored: { firmwareVersion: '1.0.0' },
      });
      expect(await ssd()).toMatchObject({ state: 'offline', firmwareVersion: '1.0.0' });
    });
  });

  it('leaves a resource that is gone, and refuses the key of another kind of action', async () => {
    const vm = await t.rack.instances.create({ name: 'vm', cpus: 1, memoryGiB: 1 }, 'g/instance');
    await t.rack.instances.update({ instanceId: vm.id, state: 'stopped' }, 'g/stop');
    await t.rack.instances.delete({ actionKey: 'g/instance' }, 'g/instance/undo');
    expect(await t.rack.instances.revert({ actionKey: 'g/stop' }, 'g/stop/undo')).toMatchObject({ undone: false, resourceId: vm.id });
    expect(await failureOf(t.rack.sleds.revert({ actionKey: 'g/stop' }, 'g/stop/undo#2'))).toMatchObject({
      code: 'key-mismatch', field: 'actionKey', class: 'refused',
    });
    expect(await failureOf(t.rack.call('sleds.revert', { id: 'sled-0' } as never, 'k'))).toMatchObject({ status: 400, field: 'actionKey' });
  });
});

describe('bad input over HTTP: 400 naming what is wrong, nothing changed', () => {
  async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${t.server.url}${path}`, { method, body, headers });
    return { status: response.status, json: (await response.json()) as { error?: { code: string; message: string; field?: string } } };
  }

  it('answers a malformed URL with 400, not 500', async () => {
    for (const path of ['/v1/instances/%E0%A4%A', '/v1/%E0%A4%A', '/v1/instances/%']) {
      const bad = await call('GET', path);
      expect(bad.status, path).toBe(400);
      expect(bad.json.error, path).toMatchObject({ code: 'invalid-url', class: 'refused' });
      expect(bad.json.error?.message, path).toMatch(/malformed.*percent-encode/);
    }
    const mutation = await call('POST', '/v1/instances/%E0%A4%A', JSON.stringify(instance), { 'Idempotency-Key': 'u' });
    expect(mutation.status).toBe(400);
    expect(await t.rack.ledger()).toEqual([]);
  });

  it('answers unknown and repeated query parameters with 400 naming the parameter', async () => {
    const created = await t.rack.instances.create(instance, 'q/create');
    const cases: [string, string, string][] = [
      ['GET', `/v1/instances/${created.id}?bogus=1`, 'query.bogus'],
      ['GET', '/v1/inventory?bogus=1', 'query.bogus'],
      ['GET', '/v1/health?x=1', 'query.x'],
      ['GET', '/v1/faults?operation=sleds.list', 'query.operation'],
      ['GET', '/v1/instances?name=a&name=b', 'query.name'],
      ['GET', '/v1/ledger?key=a&key=b', 'query.key'],
      ['DELETE', '/v1/faults?bogus=1', 'query.bogus'],
      ['DELETE', '/v1/faults/drives', 'query.ssdId'],
    ];
    for (const [method, path, field] of cases) {
      const bad = await call(method, path);
      expect(bad.status, `${method} ${path}`).toBe(400);
      expect(bad.json.error, `${method} ${path}`).toMatchObject({ code: 'invalid-request', field });
    }
    const post = await call('POST', '/v1/instances/create?dryRun=true', JSON.stringify({ ...instance, name: 'web-2' }), { 'Idempotency-Key': 'q/2' });
    expect(post).toMatchObject({ status: 400, json: { error: { field: 'query.dryRun' } } });
    expect((await t.rack.list('instances')).map((i) => i.name)).toEqual(['web-1']);
  });

  it('answers a bad JSON body with 400 on every POST route', async () => {
    for (const path of ['/v1/instances/create', '/v1/faults/rules', '/v1/faults/script', '/v1/faults/seed', '/v1/admin/reset']) {
      const bad = await call('POST', path, '{"name":', { 'Idempotency-Key': 'j' });
      expect(bad.status, path).toBe(400);
      expect(bad.json.error, path).toMatchObject({ code: 'invalid-json' });
    }
  });

  it('refuses a fault for an unknown operation, naming it and listing the valid ones', async () => {
    for (const [path, body] of [
      ['/v1/faults/rules', { operation: 'nosuch.op', transientRate: 0.5 }],
      ['/v1/faults/script', { operation: 'nosuch.op', kind: 'transient' }],
      ['/v1/faults/rules', { operation: 'regions.ensur', permanent: 'refused' }],
    ] as const) {
      const bad = await call('POST', path, JSON.stringify(body));
      expect(bad.status, path).toBe(400);
      expect(bad.json.error, path).toMatchObject({ code: 'unknown-operation', field: 'operation', class: 'refused' });
      expect(bad.json.error?.message).toContain(`'${body.operation}'`);
    }
    const unknown = await call('POST', '/v1/faults/rules', JSON.stringify({ operation: 'nosuch.op', transientRate: 0.5 }));
    // Every valid operation is named: the mutations, the reads of every resource, and `*`.
    for (const op of ['*', ...Object.keys(mutations)]) expect(unknown.json.error?.message).toContain(op);
    for (const resource of Object.keys(resources)) expect(unknown.json.error?.message).toContain(resource);
    const near = await call('POST', '/v1/faults/rules', JSON.stringify({ operation: 'regions.ensur', permanent: 'refused' }));
    expect(near.json.error?.message).toMatch(/regions\.ensure, regions\.delete, regions\.move, regions\.list, regions\.get/);
    const clear = await call('DELETE', '/v1/faults?operation=nosuch.op');
    expect(clear).toMatchObject({ status: 400, json: { error: { code: 'unknown-operation' } } });
    expect((await t.rack.faults.get()).rules).toEqual([]);
    expect((await t.rack.faults.get()).scripted).toEqual([]);
    // The valid forms are still accepted.
    await t.rack.faults.setRule({ operation: '*', latencyMs: 1 });
    await t.rack.faults.script({ operation: 'sleds.get', kind: 'transient' });
    expect(await t.rack.faults.clear('sleds.get')).toMatchObject({ rules: [{ operation: '*' }], scripted: [] });
  });
});
