/**
 * The chaos run's technician: once a sled replacement is approved, swaps the sled (a new serial,
 * written to the rack) and reports it to the saga. The rack's faults hit the technician's own
 * writes too: a transient failure (its outcome unknown) is tried again at the next look with the
 * same idempotency key, as the rack asks of every caller — not the end of the run.
 */
import { OperatorActionRefusedError, type UnwindClient } from '../../client';
import type { RackClient } from '../../rack';
import { RackError } from '../../rack/client';

/** One replacement the technician works on. */
export interface SledSwap {
  workflowId: string;
  sledId: string;
  serial: string;
  /** The idempotency key of the swap's rack write: the same at every try. */
  key: string;
}

/**
 * Swaps the sled and reports it.
 * @returns true once the saga took the report; false to look again later: the rack failed
 *   transiently, the saga refused the report (it does not wait for hardware yet), or `away(error)`
 *   says the server was away.
 */
export async function swapAndReport(rack: RackClient, client: Pick<UnwindClient, 'sleds'>, swap: SledSwap, away: (error: unknown) => boolean): Promise<boolean> {
  try {
    await rack.sleds.update({ sledId: swap.sledId, serial: swap.serial }, swap.key);
    await client.sleds.hardwareReplaced(swap.workflowId, { serial: swap.serial, technician: 'chaos-technician' });
    return true;
  } catch (error) {
    if (error instanceof OperatorActionRefusedError || (error instanceof RackError && error.class === 'transient') || away(error)) return false;
    throw error;
  }
}
