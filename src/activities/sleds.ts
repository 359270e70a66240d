/**
 * Sled activities for replacing a server: what runs and what is stored on it, moving its
 * region replicas elsewhere without ever dropping a disk below two healthy replicas, and
 * checking the hardware a technician put in.
 */
import type { RackClient } from '../rack/client';
import { classifiedError } from './boundary';

/** Replicas a disk must keep healthy while one of its replicas moves. */
export const MIN_HEALTHY_REPLICAS = 2;

/** Builds the sled activities over a rack client. */
export function createSledActivities(rack: RackClient) {
  return {
    /** Ids of the instances placed on the sled, in a stable order. */
    async instancesOnSled(request: { sledId: string }): Promise<string[]> {
      return (await rack.list('instances', { sledId: request.sledId })).map((i) => i.id).sort();
    },

    /** The region replicas stored on the sled, with their disks. */
    async regionsOnSled(request: { sledId: string }): Promise<Array<{ regionId: string; diskId: string }>> {
      const regions = await rack.list('regions', { sledId: request.sledId });
      return regions.map((r) => ({ regionId: r.id, diskId: r.diskId })).sort((a, b) => a.regionId.localeCompare(b.regionId));
    },

    /**
     * Moves one replica off its sled: removes it, then creates one on another sled (the rack
     * places it where the disk has no replica yet). Refuses — needs an operator — when the
     * disk's other replicas are not all healthy, since removing this one would leave fewer
     * than two. Converges on retry: each half is keyed.
     */
    async reReplicateRegion(request: { regionId: string; diskId: string }, key: string): Promise<{ newRegionId: string; sledId: string }> {
      const replicas = await rack.list('regions', { diskId: request.diskId });
      // Already removed by an earlier attempt: only the new replica may be missing.
      if (replicas.some((r) => r.id === request.regionId)) {
        const others = replicas.filter((r) => r.id !== request.regionId);
        const healthy = others.filter((r) => r.health === 'healthy');
        if (healthy.length < MIN_HEALTHY_REPLICAS) {
          throw classifiedError(
            'needs-operator',
            `moving region ${request.regionId} would leave disk ${request.diskId} with ${healthy.length} healthy replica(s) ` +
              `(${others.map((r) => `${r.id} on ${r.sledId}: ${r.health}`).join(', ')}); repair the degraded replicas, then retry`,
          );
        }
        await rack.regions.delete({ id: request.regionId }, `${key}/delete`);
      }
      const created = await rack.regions.ensure({ diskId: request.diskId }, `${key}/ensure`);
      return { newRegionId: created.id, sledId: created.sledId };
    },

    /**
     * Checks the replacement hardware: the sled must report the serial the technician gave,
     * and pass its self-test (every SSD healthy). Anything else needs an operator.
     */
    async verifySled(request: { sledId: string; serial: string }): Promise<void> {
      const [sled, ssds] = await Promise.all([rack.get('sleds', request.sledId), rack.list('ssds', { sledId: request.sledId })]);
      if (sled.serial !== request.serial) {
        throw classifiedError(
          'needs-operator',
          `sled ${sled.id} reports serial ${sled.serial}, but the technician reported ${request.serial}: check the hardware in the slot`,
        );
      }
      const failing = ssds.filter((s) => s.health !== 'healthy');
      if (failing.length > 0) {
        throw classifiedError(
          'needs-operator',
          `sled ${sled.id} failed its self-test: ${failing.map((s) => `${s.id} is ${s.health}`).join(', ')}; replace the parts, then retry`,
        );
      }
    },
  };
}

/** The sled activities, as workflows see them. */
export type SledActivities = ReturnType<typeof createSledActivities>;
