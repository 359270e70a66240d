/**
 * The simulated hardware catching up with time: SSDs back from resets, regions done resyncing.
 */
import type { RackDb } from './db';

/**
 * The simulated hardware's behaviours that are test configuration rather than rack state (drive
 * faults, src/rack/faults.ts): a `FaultInjector` is one.
 */
export interface SimulatedHardware {
  /** The drive fault of `ssdId` in force, without using it up. */
  driveFault(ssdId: string): 'never-returns' | 'update-fails' | undefined;
  /** Uses up one reset's worth of the drive fault of `ssdId`. */
  takeDriveFault(ssdId: string): 'never-returns' | 'update-fails' | undefined;
}

/** Hardware without drive faults. */
export const healthyHardware: SimulatedHardware = { driveFault: () => undefined, takeDriveFault: () => undefined };

/** What {@link settleHardware} changed. */
export interface HardwareSettlement {
  /** SSDs that came back from a reset. */
  returned: string[];
  /** SSDs whose regions finished resyncing. */
  resynced: string[];
}

/**
 * Lets the simulated hardware catch up with time: SSDs that were reset come back (unless a drive
 * fault says they never return) running the firmware the reset activated, and regions whose SSD
 * is back online finish resyncing. The rack applies this whenever SSDs or regions are observed
 * (reads, and mutations that depend on it), in one transaction with ledger rows under key `sim`.
 */
export function settleHardware(db: RackDb, sim: SimulatedHardware = healthyHardware, ssdId?: string): HardwareSettlement {
  const scope = ssdId === undefined ? '' : ' AND id = ?';
  const args = ssdId === undefined ? [] : [ssdId];
  const resetting = db.prepare(`SELECT id FROM ssds WHERE state = 'resetting'${scope}`).all(...args) as { id: string }[];
  const resyncing = db
    .prepare(
      `SELECT DISTINCT d.id FROM ssds d JOIN regions r ON r.ssd_id = d.id WHERE r.resyncing = 1 AND d.state = 'online'${scope.replace('id', 'd.id')}`,
    )
    .all(...args) as { id: string }[];
  const returned = resetting.map((r) => r.id).filter((id) => sim.driveFault(id) !== 'never-returns');
  if (returned.length === 0 && resyncing.length === 0) return { returned: [], resynced: [] };
  const now = new Date().toISOString();
  const ledger = db.prepare("INSERT INTO ledger (operation, key, resource_type, resource_id, effect, at) VALUES (?, 'sim', ?, ?, 'updated', ?)");
  db.transaction(() => {
    for (const id of returned) {
      db.prepare(
        "UPDATE ssds SET state = 'offline', firmware_version = COALESCE(pending_firmware, firmware_version), pending_firmware = NULL WHERE id = ?",
      ).run(id);
      ledger.run('sim.ssdReturned', 'ssd', id, now);
    }
    for (const { id } of resyncing) {
      db.prepare('UPDATE regions SET resyncing = 0 WHERE ssd_id = ?').run(id);
      ledger.run('sim.regionsResynced', 'ssd', id, now);
    }
  })();
  return { returned, resynced: resyncing.map((r) => r.id) };
}
