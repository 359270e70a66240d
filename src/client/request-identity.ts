/**
 * Request identity: how a start finds the saga the same request started, refuses a request id
 * used with other parameters, and refuses a start while a conflicting saga runs on its object.
 * Each saga family describes its kinds of saga ({@link SagaKind}); {@link sagaStarter} starts them.
 */
import { type Client, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { REQUEST_MEMO_KEY, RequestMemo, canonical, differingFields } from '../schemas/request';
import { UnwindProgressAt, UnwindSaga, UnwindState } from '../schemas/search-attributes';
import { RequestConflictError, type RunningSaga, SagaConflictError, parseRequest } from './errors';
import { type StartOptions, faultsMemo } from './faults';
import { type SagaHandle, sagaHandle } from './handle';
import { quote } from './list';

/**
 * The object a saga works on, as starts check it: what to call it in a refusal, and the sagas
 * (type and workflow-id prefix) that must not run alongside a new one on it.
 */
export interface SagaObject {
  /** E.g. `instance 4f0c…`, `instance name web-1`, `sled sled-3`. */
  what: string;
  /** `[workflow type, workflow id prefix]` of each kind of saga that excludes a new one. */
  sagas: readonly (readonly [type: string, prefix: string])[];
}

/** How the client starts one kind of saga: its type, request name, schema, id and object. */
export interface SagaKind<S extends z.ZodType> {
  sagaType: string;
  /** The request's name in errors, e.g. `instances.create`. */
  request: string;
  schema: S;
  /** The workflow id of a request (its request id filled in). */
  workflowId: (params: z.infer<S> & { requestId: string }) => string;
  object: (params: z.infer<S>) => SagaObject;
}

/**
 * The visibility query for the running sagas a new saga on `object` must not run alongside, e.g.
 * `ExecutionStatus = 'Running' AND ((WorkflowType = 'instanceMigrate' AND WorkflowId STARTS_WITH
 * 'instance-migrate/i-1/') OR (…))`.
 */
export function sagaConflictQuery(object: SagaObject): string {
  const each = object.sagas.map(([type, prefix]) => `(WorkflowType = ${quote(type)} AND WorkflowId STARTS_WITH ${quote(prefix)})`);
  return `ExecutionStatus = 'Running' AND (${each.join(' OR ')})`;
}

/** A new request id: 12 random lowercase letters and digits. */
export function newRequestId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The fingerprint of a request's parsed parameters (request id left out): key order does not matter. */
export function requestFingerprint(params: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(JSON.stringify(canonical(params))).digest('hex').slice(0, 32);
}

/** Starts a kind of saga for a request: see {@link sagaStarter}. */
export type StartSaga = <S extends z.ZodType<{ requestId?: string | undefined }>, R>(kind: SagaKind<S>, input: unknown, options?: StartOptions) => Promise<SagaHandle<R>>;

/**
 * Parses, then starts `kind`'s saga for the request, or finds the saga the same request started:
 * 1. the request id given was used before (the workflow id exists): the same parameters return
 *    that saga (`existing`), other parameters throw RequestConflictError;
 * 2. a conflicting saga runs on the object (visibility): SagaConflictError;
 * 3. start; a start that loses a race for the same id reads the winner as in 1.
 * Faults (`options.faults`, checked first) go into the start memo; they are not part of the
 * request's parameters, so a repeated request finds its saga whatever faults it names.
 */
export function sagaStarter(temporal: Client, taskQueue: string): StartSaga {
  return async function start<S extends z.ZodType<{ requestId?: string | undefined }>, R>(
    kind: SagaKind<S>,
    input: unknown,
    options: StartOptions = {},
  ): Promise<SagaHandle<R>> {
    const parsed = parseRequest(kind.schema, input, kind.request);
    const faults = faultsMemo(options.faults, kind.request);
    const given = parsed.requestId;
    const requestId = given ?? newRequestId();
    const params = { ...parsed, requestId } as z.infer<S> & { requestId: string };
    const { requestId: _omitted, ...compared } = params as Record<string, unknown>;
    const memo: RequestMemo = { id: requestId, fingerprint: requestFingerprint(compared), params: compared };
    const workflowId = kind.workflowId(params);
    const handle = temporal.workflow.getHandle(workflowId);

    /** The saga the same request id started: this one if the parameters match, else refused. */
    const sameRequest = (found: WorkflowExecutionDescription): SagaHandle<R> => {
      const first = RequestMemo.safeParse(found.memo?.[REQUEST_MEMO_KEY]);
      if (first.success && first.data.fingerprint !== memo.fingerprint) {
        const fields = differingFields(first.data.params, compared);
        if (fields.length > 0) {
          const at = (p: Record<string, unknown>, field: string) => field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p);
          throw new RequestConflictError(kind.request, requestId, workflowId, fields.map((field) => ({ field, before: at(first.data.params, field), now: at(compared, field) })));
        }
      }
      return sagaHandle<R>(temporal, workflowId, true, requestId);
    };

    // A generated id is new: only a request id given can have been used before.
    if (given !== undefined) {
      const found = await handle.describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
      if (found) return sameRequest(found);
    }
    const object = kind.object(params);
    const running = await runningOn(object, workflowId);
    if (running) throw new SagaConflictError(kind.request, object.what, running);
    try {
      await temporal.workflow.start(kind.sagaType, {
        taskQueue,
        workflowId,
        args: [params],
        memo: { [REQUEST_MEMO_KEY]: memo, ...faults },
        // A workflow id names one request: never run twice, never reused after it closed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        // Listable (and findable as stalled) before any worker picks it up; the engine takes over.
        typedSearchAttributes: [
          { key: UnwindSaga, value: kind.sagaType },
          { key: UnwindState, value: 'running' },
          { key: UnwindProgressAt, value: new Date() },
        ],
      });
      return sagaHandle<R>(temporal, workflowId, false, requestId);
    } catch (error) {
      // The same request started meanwhile (another caller, or a retry of this call).
      if (error instanceof WorkflowExecutionAlreadyStartedError) return sameRequest(await handle.describe());
      throw error;
    }
  };

  /** The oldest running saga on `object` that a new saga there must not run alongside, if any. */
  async function runningOn(object: SagaObject, except: string): Promise<RunningSaga | undefined> {
    const query = sagaConflictQuery(object);
    let oldest: RunningSaga | undefined;
    for await (const info of temporal.workflow.list({ query, pageSize: 100 })) {
      // STARTS_WITH may match more loosely than a prefix (SQL LIKE): check each id.
      const excluded = object.sagas.some(([type, prefix]) => info.type === type && info.workflowId.startsWith(prefix));
      if (!excluded || info.workflowId === except) continue;
      const request = RequestMemo.safeParse(info.memo?.[REQUEST_MEMO_KEY]);
      const found: RunningSaga = {
        workflowId: info.workflowId,
        saga: info.typedSearchAttributes.get(UnwindSaga) ?? info.type,
        requestId: request.success ? request.data.id : null,
        startTime: info.startTime.toISOString(),
      };
      if (!oldest || found.startTime < oldest.startTime) oldest = found;
    }
    return oldest;
  }
}
