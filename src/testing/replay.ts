/**
 * Replaying histories against the current workflow code: the check that a change to a saga is
 * safe for the executions already running. A change that would make a recorded execution take
 * another path (a step added, removed, renamed or reordered without `patched()`) fails its replay
 * with a nondeterminism error.
 *
 * `replayHistories` replays many histories with one bundle and one replay worker (seconds for
 * hundreds); `fetchHistories` reads them from a server: by workflow id (every run of a workflow
 * that continued as new, oldest first) or by a visibility query.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Client, WorkflowClient } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleUnwindWorkflows, quietLogger } from './worker';

/** A history as the server gives it (`fetchHistory()`). */
export type History = temporal.api.history.v1.IHistory;

/** One history to replay: the server's object, or its JSON (`historyToJSON`, a file of the corpus). */
export interface HistoryToReplay {
  workflowId: string;
  history: History | unknown;
  /** Its run, when known (named in a failure). */
  runId?: string;
  /** What to call it in a failure (a file name, say); several runs may share a workflow id. */
  label?: string;
}

/** Options of {@link replayHistories}. */
export interface ReplayOptions {
  /** The workflow code to replay with; unwind's own workflows (bundled once per process) unless told. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** A workflows entry to bundle instead (a variant of src/workflows, e.g. a test fixture). */
  workflowsPath?: string;
  /**
   * The data converter the histories were written with: a history whose payloads an encryption
   * codec wrote replays only with that codec (`payloadCodecs`).
   */
  dataConverter?: DataConverter;
}

/** A history that did not replay. */
export interface ReplayFailure {
  workflowId: string;
  runId?: string;
  /** The history's label, when it had one. */
  label?: string;
  /** The SDK's error: a `DeterminismViolationError` when the code took another path, else a `ReplayError`. */
  error: Error;
}

/** What {@link replayHistories} found. */
export interface ReplayReport {
  /** Histories replayed, failed or not. */
  replayed: number;
  failures: ReplayFailure[];
  /** Replay workers that stopped mid-batch (the rest of the batch was then replayed one by one). */
  stops: string[];
}

/**
 * Replays every history with the workflow code (unwind's bundle unless told) and reports each
 * that did not replay. Never throws for a history that fails to replay: that is a failure in
 * the report. Throws when a history is not a history at all, or the replay worker cannot run.
 */
export async function replayHistories(
  histories: Iterable<HistoryToReplay> | AsyncIterable<HistoryToReplay>,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const workflowBundle =
    options.workflowBundle ?? (options.workflowsPath === undefined ? await bundleUnwindWorkflows() : await bundleOf(options.workflowsPath));
  const workerOptions = { workflowBundle, replayName: 'unwind-replay', ...(options.dataConverter && { dataConverter: options.dataConverter }) };
  const failures: ReplayFailure[] = [];
  const stops: string[] = [];
  let replayed = 0;
  const failed = (input: HistoryToReplay, error: Error, runId?: string) =>
    failures.push({ workflowId: input.workflowId, runId: input.runId ?? runId, ...(input.label !== undefined && { label: input.label }), error });
  for await (const batch of batches(histories, REPLAY_BATCH)) {
    // The SDK replays one history at a time, in order, and yields one result for each.
    let done = 0;
    try {
      for await (const result of Worker.runReplayHistories(workerOptions, asReplayable(batch))) {
        const input = batch[done++]!;
        if (result.error) failed(input, result.error, result.runId);
      }
    } catch (error) {
      stops.push(`a replay worker stopped after ${done} of ${batch.length} histories: ${(error as Error).message}`);
      // The replay worker itself stopped (a history it could not take at all): the rest of the
      // batch is replayed one by one, each on a worker of its own, so the one at fault is named.
      for (const input of batch.slice(done)) {
        await Worker.runReplayHistory(workerOptions, toHistory(input.history, input.label ?? input.workflowId), input.workflowId).catch((e: unknown) =>
          failed(input, e instanceof Error ? e : new Error(String(e))),
        );
      }
    }
    replayed += batch.length;
  }
  return { replayed, failures, stops };
}

/** Histories per replay worker: a worker that stops loses only its batch's pace, never a verdict. */
const REPLAY_BATCH = 100;

/** The histories in arrays of `size`, fetched as the replay takes them. */
async function* batches<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncIterable<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** Bundles a workflows entry once per process, quietly. */
function bundleOf(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: quietLogger });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** The histories with JSON turned into history objects (the SDK takes both, but says nothing useful about a bad file). */
function* asReplayable(histories: readonly HistoryToReplay[]): Iterable<{ workflowId: string; history: History }> {
  for (const entry of histories) yield { workflowId: entry.workflowId, history: toHistory(entry.history, entry.label ?? entry.workflowId) };
}

/** A history object from a history object or its JSON (parsed or text). */
export function toHistory(history: unknown, label = 'history'): History {
  const value = typeof history === 'string' ? (JSON.parse(history) as unknown) : history;
  const events = (value as { events?: { eventId?: unknown }[] } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) throw new TypeError(`${label}: not a workflow history (no events)`);
  // JSON files carry event ids as strings; the server's objects as Longs.
  return typeof events[0]!.eventId === 'string' ? historyFromJSON(value as { events: Record<string, unknown>[] }) : (value as History);
}

/*
 * History <-> JSON. The SDK's own `historyToJSON` / `historyFromJSON` (@temporalio/common) fail
 * with "type must be a Type" when npm installs @temporalio/common and @temporalio/proto with a
 * protobufjs each (here: both 8.8.1, not hoisted because grpc's proto-loader hoists 7.x): they
 * check the proto's types against the other copy. These use the protobufjs @temporalio/proto
 * itself loaded, so they work in either layout; the JSON is the same (Temporal's tools' format).
 */
type ProtoJson = {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
const nodeRequire = createRequire(__filename);
// The CommonJS module itself: an ES namespace of it (as a test runner may give) is no protobuf root.
const protoModule = nodeRequire('@temporalio/proto') as Record<string, unknown>;
const protojson = createRequire(nodeRequire.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = (patchProtobufRoot(protoModule) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** A history as JSON text, in the format of Temporal's other tools (`temporal workflow show --output json`). */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history)));
}

/** A history object from its JSON (this module's, the SDK's or the Temporal CLI's: enum names in either case). */
export function historyFromJSON(json: { events: Record<string, unknown>[] }): History {
  const constant = (s: string) => s.replace(/(?<=.)([A-Z])/g, '_$1').toUpperCase();
  const fixEnum = (obj: Record<string, unknown> | undefined, attr: string, prefix: string) => {
    const v = obj?.[attr];
    return typeof v === 'string' && !v.startsWith(prefix) ? { [attr]: `${prefix}_${constant(v)}` } : {};
  };
  const events = json.events.map((e) => {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes'));
    if (!key) throw new TypeError(`a history event without attributes: ${JSON.stringify(e).slice(0, 200)}`);
    const attrs = e[key] as Record<string, unknown>;
    const taskQueue = attrs.taskQueue as Record<string, unknown> | undefined;
    const childFailure = attrs.childWorkflowExecutionFailureInfo as Record<string, unknown> | undefined;
    return {
      ...e,
      ...fixEnum(e, 'eventType', 'EVENT_TYPE'),
      [key]: {
        ...attrs,
        ...(taskQueue && { taskQueue: { ...taskQueue, ...fixEnum(taskQueue, 'kind', 'TASK_QUEUE_KIND') } }),
        ...fixEnum(attrs, 'parentClosePolicy', 'PARENT_CLOSE_POLICY'),
        ...fixEnum(attrs, 'workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY'),
        ...fixEnum(attrs, 'initiator', 'CONTINUE_AS_NEW_INITIATOR'),
        ...fixEnum(attrs, 'retryState', 'RETRY_STATE'),
        ...(childFailure && { childWorkflowExecutionFailureInfo: { ...childFailure, ...fixEnum(childFailure, 'retryState', 'RETRY_STATE') } }),
      },
    };
  });
  return protojson.fromJson(historyType, { events }, { ignoreUnknownFields: true }) as History;
}

/** What to fetch: workflow ids (each with every run, or one run), or a visibility query. */
export type HistorySelection =
  | readonly (string | { workflowId: string; runId?: string })[]
  | { query: string };

/** Options of {@link fetchHistories}. */
export interface FetchHistoriesOptions {
  /**
   * For a workflow id given without a run id: fetch every run of a workflow that continued as
   * new (oldest first), following each run back to the one it continued; true unless told.
   */
  allRuns?: boolean;
}

/**
 * Fetches histories to replay. For workflow ids: the latest run of each (with `allRuns`, the
 * default, also every run it continued from), or the run named. For a query (`WorkflowType =
 * 'instanceCreate'`, `TaskQueue = 'chaos'`…): every execution visibility lists, each run on its
 * own. Lazy: histories are fetched as the replay takes them.
 */
export async function* fetchHistories(
  client: Client | WorkflowClient,
  selection: HistorySelection,
  options: FetchHistoriesOptions = {},
): AsyncIterable<{ workflowId: string; runId: string; history: History }> {
  const workflow = 'workflow' in client ? client.workflow : client;
  if (!Array.isArray(selection)) {
    const { query } = selection as { query: string };
    // One at a time, so the replay's pace bounds the fetching (intoHistories() buffers ahead).
    for await (const execution of workflow.list({ query })) {
      const history = await workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      yield { workflowId: execution.workflowId, runId: execution.runId, history };
    }
    return;
  }
  for (const entry of selection as readonly (string | { workflowId: string; runId?: string })[]) {
    const { workflowId, runId } = typeof entry === 'string' ? { workflowId: entry, runId: undefined } : entry;
    if (runId !== undefined || options.allRuns === false) {
      const handle = workflow.getHandle(workflowId, runId);
      const resolvedRunId = runId ?? (await handle.describe()).runId;
      yield { workflowId, runId: resolvedRunId, history: await workflow.getHandle(workflowId, resolvedRunId).fetchHistory() };
      continue;
    }
    // The latest run, then each run it continued from (the started event names it): oldest first.
    const runs: { runId: string; history: History }[] = [];
    for (let next: string | undefined = (await workflow.getHandle(workflowId).describe()).runId; next; ) {
      const history = await workflow.getHandle(workflowId, next).fetchHistory();
      runs.unshift({ runId: next, history });
      next = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    }
    for (const run of runs) yield { workflowId, ...run };
  }
}

/** One history of a corpus directory, as its `index.json` lists it (see test/histories/README.md). */
export interface CorpusEntry {
  /** Relative to the corpus directory: `<workflowType>/<path>[.<label>].json`. */
  file: string;
  workflowType: string;
  /** The path the execution took (`completed`, `unwound`, …). */
  path: string;
  /** Which code recorded it: absent for the first, `v2`… after a versioning change of its type. */
  label?: string;
  workflowId: string;
  /** How the execution ended (`COMPLETED`, `FAILED`, `CANCELED`, `CONTINUED_AS_NEW`…). */
  status: string;
  events: number;
  description: string;
}

/** A corpus history ready to replay: its entry, and the history JSON (labelled with its file). */
export interface CorpusHistory extends HistoryToReplay {
  entry: CorpusEntry;
  label: string;
  /** The workflow type the history itself names (its first event). */
  startedType: string | undefined;
}

/**
 * Reads a corpus directory (test/histories): every history its `index.json` lists. Throws when
 * a listed file is missing, or a history file is not listed (its workflow id would be unknown:
 * replay needs it, child workflow ids and keys derive from it).
 */
export function readHistoryCorpus(dir: string): CorpusHistory[] {
  const entries = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as CorpusEntry[];
  const listed = new Set(entries.map((e) => e.file));
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .map((f) => relative(dir, join(dir, f)).split('\\').join('/'));
  const unlisted = files.filter((f) => !listed.has(f));
  if (unlisted.length > 0) throw new Error(`${dir}: not in index.json (record them with npm run histories): ${unlisted.join(', ')}`);
  return entries.map((entry) => {
    const file = join(dir, entry.file);
    if (!existsSync(file)) throw new Error(`${dir}/index.json lists ${entry.file}, which does not exist`);
    const history = JSON.parse(readFileSync(file, 'utf8')) as { events?: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[] };
    return {
      entry,
      workflowId: entry.workflowId,
      history,
      label: entry.file,
      startedType: history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name,
    };
  });
}
