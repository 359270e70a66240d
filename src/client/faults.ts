/**
 * The fault memo a start may carry (`unwindFaults`, schema `SagaFaults` in src/schemas/faults.ts):
 * checked here, once, for every way a saga starts — a family's start (`instances.create(request,
 * { faults })`), the generic `sagas.start`, and `unwind start --fault` before it connects.
 */
import { z } from 'zod';
import { FAULTS_MEMO_KEY, SagaFaults } from '../schemas/faults';
import { parseRequest } from './errors';

/** Options of every start. */
export interface StartOptions {
  /**
   * Faults to inject into this run, read by the saga engine at start (the memo `unwindFaults`):
   * for tests and drills. None unless given.
   */
  faults?: SagaFaults;
}

const FaultsOption = z.strictObject({ faults: SagaFaults.optional() });

/**
 * The start memo's entries for `faults`: `{ unwindFaults: faults }`, or none when not given.
 * @throws InvalidRequestError naming every bad field as `faults.<field>` (of `request`); nothing starts.
 */
export function faultsMemo(faults: unknown, request: string): Record<string, unknown> {
  const checked = parseRequest(FaultsOption, { faults }, request).faults;
  return checked === undefined ? {} : { [FAULTS_MEMO_KEY]: checked };
}
