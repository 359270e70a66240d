/** The registry of the rack's named operations, shared by the server, the store and the client. */
import type { z } from 'zod';
import {
  DiskAttachInput, DiskCreateInput, FirmwareSetTargetInput, InstanceCreateInput, InstanceUpdateInput, IpAllocateInput,
  NicCreateInput, RegionEnsureInput, RegionMoveInput, SledReserveInput, SledUpdateInput, SsdInstallInput, SsdOfflineInput, SsdResetInput,
  SsdUpdateFirmwareInput, SsdUpdateInput, V2pSetInput, VmmCreateInput, VmmUpdateInput,
} from './inputs';
import {
  type ResourceName, Disk, FirmwareTarget, Instance, IpAddress, Nic, Region, Reservation, Sled, Ssd, V2pMapping, Vmm,
} from './resources';
import { RevertInput, RevertResult, UndoInput, UndoResult } from './undos';

/**
 * Every mutating operation, by name. The route is `POST /v1/<resource>/<verb>` for
 * `<resource>.<verb>`; an undo names the action whose effect it removes. Every undo, given the
 * key of an action that never applied, fences that key and changes nothing. An update is undone
 * by its `revert`, which puts back what the update replaced (see {@link RevertResult}).
 */
export const mutations = {
  'sleds.reserve': { input: SledReserveInput, output: Reservation },
  'sleds.release': { input: UndoInput, output: UndoResult, undoes: 'sleds.reserve' },
  'sleds.update': { input: SledUpdateInput, output: Sled },
  'sleds.revert': { input: RevertInput, output: RevertResult, undoes: 'sleds.update' },
  'ssds.update': { input: SsdUpdateInput, output: Ssd },
  'ssds.revert': { input: RevertInput, output: RevertResult, undoes: 'ssds.update' },
  'ssds.install': { input: SsdInstallInput, output: Ssd },
  'ssds.offline': { input: SsdOfflineInput, output: Ssd },
  // Brings an SSD back into service (its regions resync); refused while it has not returned from a reset.
  'ssds.online': { input: UndoInput, output: UndoResult, undoes: 'ssds.offline' },
  'ssds.updateFirmware': { input: SsdUpdateFirmwareInput, output: Ssd },
  // By the write's key: a revert of the write. Still staged: what was staged before comes back. Booted by a
  // reset: an out-of-service drive goes back to the firmware it ran before (kept if updated since). By SSD id: clears it.
  'ssds.clearFirmware': { input: UndoInput, output: RevertResult, undoes: 'ssds.updateFirmware' },
  'ssds.reset': { input: SsdResetInput, output: Ssd },
  'firmware.setTarget': { input: FirmwareSetTargetInput, output: FirmwareTarget },
  'instances.create': { input: InstanceCreateInput, output: Instance },
  'instances.update': { input: InstanceUpdateInput, output: Instance },
  'instances.revert': { input: RevertInput, output: RevertResult, undoes: 'instances.update' },
  'instances.delete': { input: UndoInput, output: UndoResult, undoes: 'instances.create' },
  'vmms.create': { input: VmmCreateInput, output: Vmm },
  'vmms.destroy': { input: UndoInput, output: UndoResult, undoes: 'vmms.create' },
  'vmms.update': { input: VmmUpdateInput, output: Vmm },
  'vmms.revert': { input: RevertInput, output: RevertResult, undoes: 'vmms.update' },
  'disks.create': { input: DiskCreateInput, output: Disk },
  'disks.delete': { input: UndoInput, output: UndoResult, undoes: 'disks.create' },
  'disks.attach': { input: DiskAttachInput, output: Disk },
  'disks.detach': { input: UndoInput, output: UndoResult, undoes: 'disks.attach' },
  'regions.ensure': { input: RegionEnsureInput, output: Region },
  'regions.delete': { input: UndoInput, output: UndoResult, undoes: 'regions.ensure' },
  // A move keeps the region's id: whoever made the replica still removes it by its key.
  'regions.move': { input: RegionMoveInput, output: Region },
  'ips.allocate': { input: IpAllocateInput, output: IpAddress },
  'ips.release': { input: UndoInput, output: UndoResult, undoes: 'ips.allocate' },
  'nics.create': { input: NicCreateInput, output: Nic },
  'nics.delete': { input: UndoInput, output: UndoResult, undoes: 'nics.create' },
  'v2p.set': { input: V2pSetInput, output: V2pMapping },
  'v2p.clear': { input: UndoInput, output: UndoResult, undoes: 'v2p.set' },
} as const;
/** The name of a mutating operation, e.g. `regions.ensure`. */
export type MutationName = keyof typeof mutations;
/** The request body of a mutating operation. */
export type MutationInput<N extends MutationName> = z.input<(typeof mutations)[N]['input']>;
/** The response body of a mutating operation. */
export type MutationOutput<N extends MutationName> = z.infer<(typeof mutations)[N]['output']>;
/** The name of an undo operation. */
export type UndoName = { [N in MutationName]: (typeof mutations)[N] extends { undoes: string } ? N : never }[MutationName];

/** The name of every operation faults can be set on: mutations and `<resource>.list|get` reads. */
export type OperationName = MutationName | `${ResourceName}.list` | `${ResourceName}.get`;

/** True for the names of mutating operations. */
export function isMutationName(name: string): name is MutationName {
  return Object.hasOwn(mutations, name);
}
