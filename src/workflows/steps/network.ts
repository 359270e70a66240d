/**
 * An instance's network: an address from the pool, a NIC holding it, and a V2P mapping on
 * every sled so that traffic for the address reaches the sled the instance runs on.
 */
import { type SagaScope, undoByKey } from '../saga';
import { rackOneShot, rackUndo } from './rack-proxies';

/** Runs `allocate-ip[i]`, `create-nic[i]` and `set-v2p[i]`, each with its undo. */
export async function provisionNic(
  saga: SagaScope,
  nic: { index: number; instanceId: string; sledId: string; allSledIds: string[] },
): Promise<{ nicId: string; ip: string }> {
  const i = nic.index;
  const ip = await saga.step(`allocate-ip[${i}]`, {
    action: (ctx) => rackOneShot.ipsAllocate({}, ctx.key),
    undo: (ctx) => rackUndo.ipsRelease(...ctx.undoKey),
  });
  const created = await saga.step(`create-nic[${i}]`, {
    action: (ctx) => rackOneShot.nicsCreate({ instanceId: nic.instanceId, ip: ip.ip }, ctx.key),
    undo: (ctx) => rackUndo.nicsDelete(...ctx.undoKey),
  });
  // One mapping per sled, each under its own key, so a retry completes a partial fan-out.
  await saga.step(`set-v2p[${i}]`, {
    action: (ctx) =>
      Promise.all(
        nic.allSledIds.map((sledId) =>
          rackOneShot.v2pSet({ sledId, virtualIp: ip.ip, physicalSledId: nic.sledId }, `${ctx.key}/${sledId}`),
        ),
      ),
    undo: (ctx) => Promise.all(nic.allSledIds.map((sledId) => rackUndo.v2pClear(...undoByKey(`${ctx.key}/${sledId}`)))),
  });
  return { nicId: created.id, ip: ip.ip };
}
