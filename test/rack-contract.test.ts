import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RackError, RackUnreachableError, createRackClient, isRackError, isTransientRackFailure, mulberry32 } from '../src/rack';
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
        outcomes.push(await t.rack.instances.create(instance, `r${round}/${i}`).then(() => true, () => false));
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
    await new Promise((resolve) => setTimeout(resolve, 600));
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
