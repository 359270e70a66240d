/**
 * `diskCreate`: a disk and its three replicas on distinct sleds. On failure the saga deletes
 * whatever it created.
 */
import { DiskCreateParams, type DiskCreateResult } from '../schemas/disk';
import { parseWorkflowInput } from '../schemas/validation';
import { runSaga } from './saga';
import { provisionDisk } from './steps/disk';

/** Creates a disk with its replicas; unwinds on failure. */
export async function diskCreate(params: DiskCreateParams): Promise<DiskCreateResult> {
  const input = parseWorkflowInput(DiskCreateParams, params, 'diskCreate');
  return runSaga('diskCreate', (saga) => provisionDisk(saga, input));
}
