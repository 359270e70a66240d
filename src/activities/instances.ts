/**
 * Instance activities that are more than one rack call: placement decisions, reading an
 * instance with all its parts, the network cutover, and streaming a VM's state to another sled.
 * Each is idempotent: run twice, it decides or converges to the same result.
 */
import { Context } from '@temporalio/activity';
import type { RackClient } from '../rack/client';
import type { Instance, IpAddress, Nic, Region, Reservation, Sled, V2pMapping, Vmm } from '../rack/schemas';
import { classifiedError } from './boundary';
import { runningWorkflow } from './workflow-lookup';

/** An instance and everything allocated to it, as an undo or a migration needs it. */
export interface InstanceParts {
  instance: Instance;
  vmms: Vmm[];
  nics: Nic[];
  /** The pool addresses its NICs hold. */
  ips: IpAddress[];
  /** Every sled's mappings of its addresses. */
  v2p: V2pMapping[];
  reservations: Reservation[];
  diskIds: string[];
  regions: Region[];
}

/** What `verifyPlacement` found: where the instance and its boot disk's replicas are. */
export interface PlacementCheck {
  sledId: string;
  vmmId: string;
  diskId: string;
  /** The sleds holding the boot disk's replicas. */
  replicaSleds: string[];
  healthyReplicas: number;
}

/** How state streaming behaves; tests shorten it. */
export interface StreamOptions {
  /** One chunk of guest memory per GiB; this is how long copying one chunk takes. */
  chunkMs?: number;
}

/** What `streamInstanceState` did: how many chunks, and from which it resumed. */
export interface StreamReport {
  chunks: number;
  resumedFromChunk: number;
}

const freeMemory = (s: Sled) => s.memoryGiB - s.memoryGiBUsed;
const freeCpus = (s: Sled) => s.cpus - s.cpusUsed;

/** Builds the instance activities over a rack client. */
export function createInstanceActivities(rack: RackClient, stream: StreamOptions = {}) {
  const chunkMs = stream.chunkMs ?? 100;

  return {
    /**
     * Chooses the online, provisionable sled with the most free memory that fits the request
     * (only `onlySledId` when given; never one in `excludeSledIds`).
     * @throws refused, in words a user understands, when no sled fits.
     */
    async chooseSled(request: { cpus: number; memoryGiB: number; excludeSledIds?: string[]; onlySledId?: string }): Promise<{ sledId: string }> {
      const sleds = (await rack.list('sleds')).filter(
        (s) => !request.excludeSledIds?.includes(s.id) && (request.onlySledId === undefined || s.id === request.onlySledId),
      );
      if (request.onlySledId !== undefined && sleds.length === 0) {
        throw classifiedError('refused', `sled ${request.onlySledId} does not exist or is the instance's own sled`);
      }
      const usable = sleds.filter((s) => s.state === 'online' && s.provisionable);
      const fitting = usable
        .filter((s) => freeCpus(s) >= request.cpus && freeMemory(s) >= request.memoryGiB)
        .sort((a, b) => freeMemory(b) - freeMemory(a) || a.id.localeCompare(b.id));
      const chosen = fitting[0];
      if (chosen) return { sledId: chosen.id };
      const roomiest = [...usable].sort((a, b) => freeMemory(b) - freeMemory(a))[0];
      throw classifiedError(
        'refused',
        `no capacity: no ${request.onlySledId ? `sled ${request.onlySledId}` : 'online, provisionable sled'} has ` +
          `${request.cpus} free CPUs and ${request.memoryGiB} GiB of free memory` +
          (roomiest ? ` (the roomiest, ${roomiest.id}, has ${freeCpus(roomiest)} CPUs and ${freeMemory(roomiest)} GiB free)` : ' (none is online and provisionable)'),
      );
    },

    /** The ids of every sled, for network state that every sled must hold. */
    async listSledIds(): Promise<string[]> {
      return (await rack.list('sleds')).map((s) => s.id).sort();
    },

    /**
     * An instance with everything allocated to it. With `mustBe`, an instance in another state
     * is refused (a migration moves only running instances); with `notMigrating`, an instance
     * whose migration still runs is refused (a delete waits for the move to end). The marker of a
     * migration that ended without clearing it (terminated) is stale and no refusal: the caller
     * changes the instance by compare-and-set on the marker it read.
     */
    async readInstance(request: { instanceId: string; mustBe?: Instance['state']; notMigrating?: boolean }): Promise<InstanceParts> {
      const { instanceId } = request;
      const [instance, vmms, nics, reservations, disks, ips, v2p] = await Promise.all([
        rack.get('instances', instanceId),
        rack.list('vmms', { instanceId }),
        rack.list('nics', { instanceId }),
        rack.list('reservations', { instanceId }),
        rack.list('disks', { instanceId }),
        rack.list('ips'),
        rack.list('v2p'),
      ]);
      if (request.mustBe && instance.state !== request.mustBe) {
        throw classifiedError('refused', `instance ${instanceId} is ${instance.state}, not ${request.mustBe}`);
      }
      if (request.notMigrating && instance.migrationId !== null && (await runningWorkflow(instance.migrationId))) {
        throw classifiedError('refused', `instance ${instanceId} is being migrated by ${instance.migrationId}; try again once that migration has ended`);
      }
      const addresses = new Set(nics.map((n) => n.ip));
      const regions = (await Promise.all(disks.map((d) => rack.list('regions', { diskId: d.id })))).flat();
      return {
        instance,
        vmms,
        nics,
        ips: ips.filter((ip) => addresses.has(ip.ip)),
        v2p: v2p.filter((m) => addresses.has(m.virtualIp)),
        reservations,
        diskIds: disks.map((d) => d.id),
        regions,
      };
    },

    /**
     * Points every sled's V2P mapping of the instance's addresses at `toSledId`. Converges:
     * mappings already right are left alone, so a retry after a partial cutover finishes it.
     */
    async cutoverV2p(input: { instanceId: string; toSledId: string }, key: string): Promise<{ changed: number }> {
      const [nics, mappings] = await Promise.all([rack.list('nics', { instanceId: input.instanceId }), rack.list('v2p')]);
      const ips = new Set(nics.map((n) => n.ip));
      let changed = 0;
      for (const mapping of mappings.filter((m) => ips.has(m.virtualIp) && m.physicalSledId !== input.toSledId)) {
        await rack.v2p.clear({ id: mapping.id }, `${key}/clear/${mapping.id}`);
        await rack.v2p.set(
          { sledId: mapping.sledId, virtualIp: mapping.virtualIp, physicalSledId: input.toSledId },
          `${key}/set/${mapping.sledId}/${mapping.virtualIp}`,
        );
        changed += 1;
      }
      return { changed };
    },

    /**
     * Checks, before an instance starts, that it is where the saga put it: its reservation and
     * its VMM on `sledId`, its boot disk attached to it with replicas on three distinct sleds, at
     * least two healthy. Reads only.
     * @throws refused, saying what is wrong, when anything is not so (the saga unwinds).
     */
    async verifyPlacement(input: { instanceId: string; sledId: string; vmmId: string; diskId: string }): Promise<PlacementCheck> {
      const { instanceId, sledId, vmmId, diskId } = input;
      const [vmms, reservations, disk, regions] = await Promise.all([
        rack.list('vmms', { instanceId }),
        rack.list('reservations', { instanceId }),
        rack.get('disks', diskId),
        rack.list('regions', { diskId }),
      ]);
      const problems: string[] = [];
      if (!reservations.some((r) => r.sledId === sledId)) {
        problems.push(`no reservation on ${sledId} (reserved on ${reservations.map((r) => r.sledId).join(', ') || 'no sled'})`);
      }
      const vmm = vmms.find((v) => v.id === vmmId);
      if (vmm?.sledId !== sledId) problems.push(`VMM ${vmmId} is ${vmm ? `on ${vmm.sledId}` : 'gone'}, not on ${sledId}`);
      if (disk.instanceId !== instanceId) problems.push(`boot disk ${diskId} is ${disk.instanceId ? `attached to ${disk.instanceId}` : 'not attached'}`);
      const replicaSleds = [...new Set(regions.map((r) => r.sledId))].sort();
      const healthy = regions.filter((r) => r.health === 'healthy').length;
      if (replicaSleds.length < 3) problems.push(`boot disk ${diskId} has replicas on ${replicaSleds.length} distinct sled(s), not 3`);
      if (healthy < 2) problems.push(`boot disk ${diskId} has ${healthy} healthy replica(s), fewer than 2`);
      if (problems.length > 0) {
        throw classifiedError('refused', `instance ${instanceId} is not placed as provisioned: ${problems.join('; ')}; it was not started`);
      }
      return { sledId, vmmId, diskId, replicaSleds, healthyReplicas: healthy };
    },

    /**
     * Copies an instance's memory to its target VMM, one chunk per GiB, heartbeating the chunk
     * reached: after a worker crash, the retry resumes from the last heartbeat, not from zero.
     */
    async streamInstanceState(input: { instanceId: string; toSledId: string; memoryGiB: number }): Promise<StreamReport> {
      const context = Context.current();
      const resumedFromChunk = Number(context.info.heartbeatDetails ?? 0);
      for (let chunk = resumedFromChunk; chunk < input.memoryGiB; chunk++) {
        await context.sleep(chunkMs);
        context.heartbeat(chunk + 1);
      }
      return { chunks: input.memoryGiB, resumedFromChunk };
    },
  };
}

/** The instance activities, as workflows see them. */
export type InstanceActivities = ReturnType<typeof createInstanceActivities>;
