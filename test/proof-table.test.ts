import { describe, expect, it } from 'vitest';
import { renderProofTable } from '../src/testing/proof-table';
import type { ProofRow } from '../src/testing/prove';

const row = (step: string, mode: ProofRow['mode'], outcome: string): ProofRow => ({ step, mode, outcome, workflowId: `${step}-${mode}`, ms: 1 });

describe('the proof table', () => {
  it('shows a row per step and a column per mode, with violations marked and counted', () => {
    const table = renderProofTable(
      'diskCreate',
      [row('create-disk', 'fail-before', 'unwound'), row('create-disk', 'needs-operator-retry', 'completed'), row('ensure-region', 'fail-before', 'VIOLATION')],
      2_500,
    );
    expect(table.split('\n')).toEqual([
      'proveSaga(diskCreate): 3 runs, 1 violations, 2.5 s',
      'step           before       NO→retry',
      'create-disk    unwound      completed',
      'ensure-region  ✗ VIOLATION',
    ]);
  });
});
