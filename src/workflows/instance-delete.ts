/**
 * `instanceDelete`, the inverse of `instanceCreate`. Stopping the instance can be undone;
 * removing its parts cannot, so the saga pivots once it is stopped and then only goes forward.
 * An instance a migration is moving is refused, before anything changes: the delete would pull
 * the instance out from under the migration's cutover. One a terminated migration left marked
 * is deleted, with whatever that migration left (a second VMM, a reservation on its target).
 * Cancelling it before that restarts the instance as it was; after it the request is recorded
 * and the delete finishes (terminate the workflow to stop it, leaving what is left for an operator).
 */
import { InstanceDeleteParams, type InstanceDeleteResult } from '../schemas/instance';
import { parseWorkflowInput } from '../schemas/validation';
import { runSaga, type SagaScope } from './saga';
import { rackOneShot, rackReliable, rackUndo } from './steps/rack-proxies';

/** Deletes an instance and everything allocated to it. */
export async function instanceDelete(params: InstanceDeleteParams): Promise<InstanceDeleteResult> {
  const input = parseWorkflowInput(InstanceDeleteParams, params, 'instanceDelete');
  return runSaga('instanceDelete', async (saga) => {
    const parts = await saga.step('read-instance', {
      action: () => rackOneShot.readInstance({ instanceId: input.instanceId, notMigrating: true }),
    });
    const { instance } = parts;
    // Compare-and-set on the marker read (none, or one a terminated migration left): a migration
    // that marked the instance after the read keeps it.
    await saga.step('stop-instance', {
      action: (ctx) =>
        rackOneShot.instancesUpdate({ instanceId: instance.id, state: 'stopped', expect: { migrationId: instance.migrationId } }, ctx.key),
      undo: (ctx) => rackUndo.instancesRevert(...ctx.undoKey),
    });

    saga.pivot();

    // Each removal names the resource by id: removing what is already gone succeeds.
    const removeAll = (step: string, ids: string[], remove: (id: string, key: string) => Promise<unknown>) =>
      saga.step(step, { action: (ctx) => Promise.all(ids.map((id) => remove(id, `${ctx.key}/${id}`))) });

    await removeAll('destroy-vmms', parts.vmms.map((v) => v.id), (id, key) => rackReliable.vmmsDestroy({ id }, key));
    await removeAll('detach-disks', parts.diskIds, (id, key) => rackReliable.disksDetach({ id }, key));
    await saga.parallel('disks-and-network', [
      async (group: SagaScope) => {
        await group.step('delete-regions', {
          action: (ctx) => Promise.all(parts.regions.map((r) => rackReliable.regionsDelete({ id: r.id }, `${ctx.key}/${r.id}`))),
        });
        await group.step('delete-disks', {
          action: (ctx) => Promise.all(parts.diskIds.map((id) => rackReliable.disksDelete({ id }, `${ctx.key}/${id}`))),
        });
      },
      async (group: SagaScope) => {
        await group.step('clear-v2p', {
          action: (ctx) => Promise.all(parts.v2p.map((m) => rackReliable.v2pClear({ id: m.id }, `${ctx.key}/${m.id}`))),
        });
        await group.step('delete-nics', {
          action: (ctx) => Promise.all(parts.nics.map((n) => rackReliable.nicsDelete({ id: n.id }, `${ctx.key}/${n.id}`))),
        });
        await group.step('release-ips', {
          action: (ctx) => Promise.all(parts.ips.map((ip) => rackReliable.ipsRelease({ id: ip.id }, `${ctx.key}/${ip.id}`))),
        });
      },
    ]);
    await removeAll('release-reservations', parts.reservations.map((r) => r.id), (id, key) => rackReliable.sledsRelease({ id }, key));
    await removeAll('delete-instance', [instance.id], (id, key) => rackReliable.instancesDelete({ id }, key));

    const removed = [
      ...parts.vmms.map((v) => `vmm ${v.id}`),
      ...parts.diskIds.map((id) => `disk ${id}`),
      ...parts.regions.map((r) => `region ${r.id}`),
      ...parts.nics.map((n) => `nic ${n.id}`),
      ...parts.ips.map((ip) => `ip ${ip.ip}`),
      ...parts.v2p.map((m) => `v2p ${m.sledId}:${m.virtualIp}`),
      ...parts.reservations.map((r) => `reservation ${r.id}`),
      `instance ${instance.id}`,
    ];
    return { instanceId: instance.id, removed };
  });
}
