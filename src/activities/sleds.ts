/**
 * Sled activities for replacing a server: what runs and what is stored on it, moving its
 * region replicas elsewhere without ever dropping a disk below two healthy replicas, and
 * checking the hardware a technician put in.
 */
import type { RackClient } from '../rack/client';
import { classifiedError } from './boundary';
import { runningWorkflow } from './workflow-lookup';

/** Builds the sled activities over a rack client. */
export function createSledActivities(rack: RackClient) {
  return {
    /**
     * The replacement marker a new replacement of the sled compares-and-sets on: null, or that
     * of a replacement that ended without releasing the sled (terminated). Refused while the
     * replacement that set it still runs: one sled, one replacement at a time.
     */
    async sledReplacementMarker(request: { sledId: string }): Promise<string | null> {
      const { replacementId } = await rack.get('sleds', request.sledId);
      if (replacementId !== null && (await runningWorkflow(replacementId))) {
        throw classifiedError('refused', `sled ${request.sledId} is being replaced by ${replacementId}: one replacement at a time; nothing was changed`);
      }
      return replacementId;
    },

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
     * Moves one replica off its sled (the rack places it where the disk has no replica yet),
     * keeping its id, so the saga that made it still undoes it by its key. Needs an operator
     * when the disk's other replicas are not all healthy. Keyed: a retry answers the first move.
     */
    async reReplicateRegion(request: { regionId: string; diskId: string }, key: string): Promise<{ regionId: string; sledId: string }> {
      const moved = await rack.regions.move({ regionId: request.regionId }, key);
      return { regionId: moved.id, sledId: moved.sledId };
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
