/**
 * The typed client of the simulated rack, for activities and tests.
 *
 * Every mutation takes the idempotency key explicitly: the caller (an activity) owns it, as
 * `<workflowId>/<step>`, so that a retry is recognised as the same request.
 */
import { z } from 'zod';
import {
  type FaultRule,
  type FieldIssue,
  type Inventory,
  type LedgerEntry,
  type LedgerFilter,
  type MutationInput,
  type MutationName,
  type MutationOutput,
  type RackSeed,
  type ResourceName,
  type ResourceOf,
  type ScriptedFault,
  type DriveFault,
  ErrorBody,
  FaultState,
  Inventory as InventorySchema,
  LedgerList,
  mutations,
  resources,
} from './schemas';
import type { FailureClass } from '../schemas/failures';
import { formatIssues } from '../schemas/validation';

/** The rack answered with a non-2xx status (or an unreadable body). */
export class RackError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The rack's stable error code, e.g. `no-capacity`. */
  readonly code: string;
  /** How to treat the failure (DESIGN.md's taxonomy). */
  readonly class: FailureClass;
  /** The first offending field, when the error is about one. */
  readonly field: string | undefined;
  /** Every offending field of a 400. */
  readonly issues: FieldIssue[] | undefined;
  /** The operation or route that failed, e.g. `regions.ensure`. */
  readonly operation: string;

  constructor(operation: string, status: number, body: ErrorBody['error']) {
    super(`${operation}: ${body.message}`);
    this.name = 'RackError';
    this.operation = operation;
    this.status = status;
    this.code = body.code;
    this.class = body.class;
    this.field = body.field;
    this.issues = body.issues;
  }
}

/** The rack could not be reached or did not answer in time: always transient, the outcome is unknown. */
export class RackUnreachableError extends Error {
  /** Always `transient`: retry with the same idempotency key. */
  readonly class = 'transient' as const;
  /** Why: no answer in time, or a connection failure. */
  readonly reason: 'timeout' | 'network';
  /** The operation or route that was attempted. */
  readonly operation: string;

  constructor(operation: string, reason: 'timeout' | 'network', cause: unknown) {
    super(
      `${operation}: rack ${reason === 'timeout' ? 'did not answer in time' : 'unreachable'} ` +
        `(${cause instanceof Error ? cause.message : String(cause)}); the outcome is unknown, retry with the same key`,
      { cause },
    );
    this.name = 'RackUnreachableError';
    this.operation = operation;
    this.reason = reason;
  }
}

/** True for an error the rack answered with. */
export function isRackError(error: unknown): error is RackError {
  return error instanceof RackError;
}

/** True for a timeout or connection failure talking to the rack. */
export function isRackUnreachableError(error: unknown): error is RackUnreachableError {
  return error instanceof RackUnreachableError;
}

/** True when retrying the call (with the same key) is the right move: unreachable, or class `transient`. */
export function isTransientRackFailure(error: unknown): error is RackError | RackUnreachableError {
  return isRackUnreachableError(error) || (isRackError(error) && error.class === 'transient');
}

/** The taxonomy class of a rack failure, or undefined for an error that did not come from the rack client. */
export function rackErrorClass(error: unknown): FailureClass | undefined {
  return isRackError(error) || isRackUnreachableError(error) ? error.class : undefined;
}

/** Options of {@link createRackClient}. */
export interface RackClientOptions {
  /** The rack's base URL, e.g. `http://127.0.0.1:7280`. */
  baseUrl: string;
  /** Per-request timeout; 10 s unless told. */
  timeoutMs?: number;
}

type Verb<N> = N extends `${string}.${infer V}` ? V : never;
type Namespace<N> = N extends `${infer R}.${string}` ? R : never;

/** A mutation as a method: `(input, idempotencyKey) => result`. */
export type MutationMethod<N extends MutationName> = (input: MutationInput<N>, key: string) => Promise<MutationOutput<N>>;

/** Mutations grouped by resource: `client.regions.ensure(input, key)`. */
export type RackMutations = {
  [R in Namespace<MutationName>]: { [N in Extract<MutationName, `${R}.${string}`> as Verb<N>]: MutationMethod<N> };
};

/** The typed rack client. */
export type RackClient = RackMutations & {
  /** Runs mutation `operation` under idempotency key `key`. */
  call<N extends MutationName>(operation: N, input: MutationInput<N>, key: string): Promise<MutationOutput<N>>;
  /** Lists a resource, optionally filtered by exact field values. */
  list<R extends ResourceName>(resource: R, filter?: Partial<Record<keyof ResourceOf<R> & string, string>>): Promise<ResourceOf<R>[]>;
  /** One resource by id; a `not-found` RackError when it does not exist. */
  get<R extends ResourceName>(resource: R, id: string): Promise<ResourceOf<R>>;
  /** The applied effects, oldest first. */
  ledger(filter?: LedgerFilter): Promise<LedgerEntry[]>;
  /** Every allocated resource; `total` is 0 on a clean slate. */
  inventory(): Promise<Inventory>;
  /** Wipes the rack (state, keys, ledger, faults) and seeds it again. */
  reset(seed?: RackSeed): Promise<void>;
  /** Fault injection. */
  faults: {
    get(): Promise<FaultState>;
    setRule(rule: z.input<typeof FaultRule>): Promise<FaultState>;
    script(fault: z.input<typeof ScriptedFault>): Promise<FaultState>;
    seed(seed: number): Promise<FaultState>;
    clear(operation?: string): Promise<FaultState>;
    /** Sets a simulated drive behaviour (`never-returns`, `update-fails`) for one SSD. */
    drive(fault: z.input<typeof DriveFault>): Promise<FaultState>;
    /** Removes the drive fault of one SSD (a drive that never returned comes back when next observed). */
    clearDrive(ssdId: string): Promise<FaultState>;
  };
};

/** Creates a client of the rack at `baseUrl`. */
export function createRackClient(options: RackClientOptions): RackClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request<S extends z.ZodType>(
    operation: string,
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    key?: string,
  ): Promise<z.infer<S>> {
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(key !== undefined && { 'Idempotency-Key': key }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new RackUnreachableError(operation, timedOut ? 'timeout' : 'network', error);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status < 200 || status > 299) {
      const parsed = ErrorBody.safeParse(json);
      throw new RackError(operation, status, parsed.success ? parsed.data.error : {
        code: `http-${status}`,
        class: status >= 500 ? 'transient' : 'refused',
        message: `HTTP ${status} without a rack error body: ${text.slice(0, 200)}`,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RackError(operation, status, {
        code: 'bad-response',
        class: 'unknown-state',
        message: `unexpected response body (${formatIssues(parsed.error, { root: '(body)' })}): is the rack the same version as this client?`,
      });
    }
    return parsed.data;
  }

  const call = <N extends MutationName>(operation: N, input: MutationInput<N>, key: string): Promise<MutationOutput<N>> => {
    const [resource, verb] = operation.split('.') as [string, string];
    return request(operation, 'POST', `/v1/${resource}/${verb}`, mutations[operation].output, input, key) as Promise<MutationOutput<N>>;
  };

  // Build the namespaced methods from the registry, so a new operation needs no client code.
  const grouped: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(mutations) as MutationName[]) {
    const [resource, verb] = name.split('.') as [string, string];
    (grouped[resource] ??= {})[verb] = (input: unknown, key: string) => call(name, input as never, key);
  }
  const enc = encodeURIComponent;
  const query = (filter: object = {}) => {
    const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
    return params.size ? `?${params}` : '';
  };

  return {
    ...(grouped as RackMutations),
    call,
    list: async (resource, filter) => {
      const schema = z.object({ items: z.array(resources[resource]) });
      const { items } = await request(`${resource}.list`, 'GET', `/v1/${resource}${query(filter)}`, schema);
      return items as ResourceOf<typeof resource>[];
    },
    get: async (resource, id) =>
      (await request(`${resource}.get`, 'GET', `/v1/${resource}/${enc(id)}`, resources[resource])) as ResourceOf<typeof resource>,
    ledger: async (filter) => (await request('ledger', 'GET', `/v1/ledger${query(filter)}`, LedgerList)).entries,
    inventory: () => request('inventory', 'GET', '/v1/inventory', InventorySchema),
    reset: async (seed) => {
      await request('admin.reset', 'POST', '/v1/admin/reset', z.object({ ok: z.literal(true) }), seed === undefined ? {} : { seed });
    },
    faults: {
      get: () => request('faults.get', 'GET', '/v1/faults', FaultState),
      setRule: (rule) => request('faults.rules', 'POST', '/v1/faults/rules', FaultState, rule),
      script: (fault) => request('faults.script', 'POST', '/v1/faults/script', FaultState, fault),
      seed: (seed) => request('faults.seed', 'POST', '/v1/faults/seed', FaultState, { seed }),
      clear: (operation) => request('faults.clear', 'DELETE', `/v1/faults${query({ operation })}`, FaultState),
      drive: (fault) => request('faults.drive', 'POST', '/v1/faults/drives', FaultState, fault),
      clearDrive: (ssdId) => request('faults.clearDrive', 'DELETE', `/v1/faults/drives${query({ ssdId })}`, FaultState),
    },
  };
}
