/**
 * The sled sagas: replacing a sled (`sledReplace`, started with its request identity) and the
 * technician's report that the new hardware is in.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SagaStatus } from '../schemas/saga';
import { UnwindSaga } from '../schemas/search-attributes';
import { HardwareReplaced, type HardwareReport, SledReplaceParams, type SledReplaceRequest, type SledReplaceResult, sledReplaceId } from '../schemas/sled';
import { hardwareReport } from '../schemas/sled-reports';
import { executeDecision } from '../temporal/updates';
import { hardwareReplacedUpdate, sagaStatusQuery } from '../schemas/messages';
import { OperatorActionRefusedError, parseRequest } from './errors';
import type { StartOptions } from './faults';
import { type SagaHandle, liveStatus } from './handle';
import type { SagaKind, StartSaga } from './request-identity';

/** Replacing sleds: the `sledReplace` saga and what its technician reports. */
export interface SledApi {
  /**
   * Starts `sledReplace` (id `sled-replace/<sledId>/<requestId>`): evacuate, re-replicate,
   * ask to power off, wait for the technician, verify, re-admit. The same request finds the
   * same saga (`existing: true`); refused while another replacement of the sled runs.
   * `options.faults` injects faults into the run (the fault memo).
   * @throws InvalidRequestError naming every bad field; RequestConflictError when the request id
   *   was used with other parameters; SagaConflictError when the sled is being replaced already.
   *   Nothing is started.
   */
  replace(request: SledReplaceRequest, options?: StartOptions): Promise<SagaHandle<SledReplaceResult>>;
  /**
   * Tells the replacement `workflowId` that the new hardware is in (the `hardwareReplaced`
   * update). The saga takes reports from its listed technicians, from the power-off's approval
   * until the new sled is verified: a technician who reported a wrong serial reports again while
   * `verify-new-sled` waits, and the operator's retry verifies the latest report.
   * @returns the report as the saga recorded it (its number among the reports, and when).
   * @throws InvalidRequestError when `serial` or `technician` is empty; WorkflowNotFoundError for
   *   an unknown id; OperatorActionRefusedError when the saga is not a sled replacement, has
   *   finished, or refused the report (saying why: a technician not listed, the power-off not
   *   approved yet, the new sled verified already) — nothing is recorded.
   */
  hardwareReplaced(workflowId: string, report: HardwareReplaced): Promise<HardwareReport>;
}

/** The sled sagas the client starts. */
const sledReplace = {
  sagaType: 'sledReplace',
  request: 'sleds.replace',
  schema: SledReplaceParams,
  workflowId: sledReplaceId,
  object: (p) => ({ what: `sled ${p.sledId}`, sagas: [['sledReplace', `sled-replace/${p.sledId}/`]] }),
} satisfies SagaKind<typeof SledReplaceParams>;

/** The sled API over `start`; `hardwareReplaced` updates the replacement through `temporal`. */
export function sledApi(temporal: Client, start: StartSaga): SledApi {
  return {
    replace: (request, options) => start(sledReplace, request, options),
    async hardwareReplaced(workflowId, report) {
      const input = parseRequest(HardwareReplaced, report, 'sleds.hardwareReplaced');
      const status = await liveStatus(temporal, workflowId, 'hardwareReplaced', (info) => {
        const sagaType = info.typedSearchAttributes.get(UnwindSaga) ?? info.type;
        return sagaType === 'sledReplace' ? undefined : `it is a ${sagaType} saga, not a sled replacement`;
      });
      // The saga's validator decides (who, when) and says why not; a report dropped with its
      // workflow task is sent again unless the saga recorded it after all.
      const reportsOf = (s: SagaStatus) => hardwareReport.read(s)?.reports ?? [];
      const before = reportsOf(status).length;
      const handle = temporal.workflow.getHandle(workflowId);
      const recorded = async () =>
        reportsOf(await handle.query(sagaStatusQuery))
          .slice(before)
          .find((r) => r.serial === input.serial && r.technician === input.technician);
      try {
        return await executeDecision(handle, hardwareReplacedUpdate, [input], recorded);
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          const reason = error.cause instanceof Error ? error.cause.message : error.message;
          throw new OperatorActionRefusedError(workflowId, 'hardwareReplaced', reason, { cause: error });
        }
        throw error;
      }
    },
  };
}
