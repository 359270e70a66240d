/**
 * Test-only sagas for operator gates (`saga.askOperator`): a question asked once, and a check
 * asked again on every retry until the test says the trouble is repaired.
 */
import { defineSignal, setHandler } from '@temporalio/workflow';
import { runSaga } from '../../src/workflows/saga';

export { retryUpdate, sagaStatusQuery, unwindUpdate } from '../../src/workflows/saga';

/** Repairs what {@link checkedGate}'s check looks at. */
export const repairSignal = defineSignal('repair');

/** Asks `question` at gate `halt` (before the pivot unless `pivot`), then records one more step. */
export async function questionGate(input: { question: string; pivot?: boolean }): Promise<string> {
  return runSaga('questionGate', async (saga) => {
    if (input.pivot) saga.pivot();
    await saga.askOperator('halt', input.question);
    return saga.step('after-halt', { action: async () => 'went on' });
  });
}

/** Gate `mirrors` asks while the mirrors are broken; the check runs on every retry. Returns how many checks ran. */
export async function checkedGate(): Promise<number> {
  let repaired = false;
  let checks = 0;
  setHandler(repairSignal, () => void (repaired = true));
  return runSaga('checkedGate', async (saga) => {
    saga.pivot();
    await saga.askOperator('mirrors', async () => {
      checks++;
      return repaired ? undefined : `mirrors broken (check ${checks}): repair them, then retry`;
    });
    return checks;
  });
}
