/**
 * The saga of the README's "Testing a saga" example (test/example-saga.test.ts proves it): an
 * instance record with one network interface. Its undo order is the rack's: a NIC is deleted
 * before its IP is released and before its instance is deleted (both are refused, `in-use`,
 * while the NIC holds them), which is what unwinding last-registered-first gives.
 */
import { z } from 'zod';
import { parseWorkflowInput } from '../../src/schemas/validation';
import { runSaga } from '../../src/workflows/saga';
import { rackOneShot, rackUndo } from '../../src/workflows/steps/rack-proxies';

/** The saga's input: the instance's name and size. */
export const NetworkedInstanceParams = z.strictObject({
  name: z.string().min(1).max(63),
  cpus: z.int().min(1).max(64),
  memoryGiB: z.int().min(1).max(512),
});
/** The saga's input: the instance's name and size. */
export type NetworkedInstanceParams = z.infer<typeof NetworkedInstanceParams>;

/** Creates an instance record, takes an IP from the pool and gives the instance a NIC on it. */
export async function networkedInstance(params: NetworkedInstanceParams): Promise<{ instanceId: string; ip: string; nicId: string }> {
  const input = parseWorkflowInput(NetworkedInstanceParams, params, 'networkedInstance');
  return runSaga('networkedInstance', async (saga) => {
    const instance = await saga.step('create-instance', {
      action: (ctx) => rackOneShot.instancesCreate({ name: input.name, cpus: input.cpus, memoryGiB: input.memoryGiB }, ctx.key),
      undo: (ctx) => rackUndo.instancesDelete({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    const ip = await saga.step('allocate-ip', {
      action: (ctx) => rackOneShot.ipsAllocate({}, ctx.key),
      undo: (ctx) => rackUndo.ipsRelease({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    const nic = await saga.step('create-nic', {
      action: (ctx) => rackOneShot.nicsCreate({ instanceId: instance.id, ip: ip.ip }, ctx.key),
      undo: (ctx) => rackUndo.nicsDelete({ actionKey: ctx.key }, `${ctx.key}/undo`),
    });
    return { instanceId: instance.id, ip: ip.ip, nicId: nic.id };
  });
}
