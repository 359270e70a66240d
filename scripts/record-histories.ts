/**
 * `npm run histories`: records the replay corpus in test/histories — the history of every
 * workflow in src/workflows on its main paths (completed, unwound, paused and retried, a stuck
 * undo skipped, approvals approved, rejected and expired, continued as new, cancelled…), run
 * against a dev server and a real rack. test/replay.test.ts replays every one of them with the
 * current code: a change that would break a running execution fails it.
 *
 *   npm run histories                               # every workflow type
 *   npm run histories -- --only instanceCreate      # some types (comma-separated)
 *   npm run histories -- --list                     # what would be recorded, and where
 *   npm run histories -- --out /tmp/histories       # record elsewhere (to compare with the corpus)
 *
 * Files are `test/histories/<workflowType>/<path>.json`, or `<path>.<label>.json` once a type has
 * had a versioning change (`LABELS` below). A recording writes only the files of each type's
 * current label: the histories recorded before a versioning change are never overwritten — they
 * stand for the executions still running the old code, for as long as the patch stays.
 *
 * Inputs are fixed (names, request ids, workflow ids), so a refresh gives comparable files; ids
 * the rack hands out and timestamps differ from one recording to the next.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { RackSeed } from '../src/rack/schemas';
import { createDevServerEnv, createTimeSkippingEnv, startRackSagaBed } from '../src/testing';
import { historyToJSON, type CorpusEntry } from '../src/testing/replay';
import { type Recorded, type Beds, scenarios } from './histories/scenarios';

/** The corpus: test/histories, or the folder `--out` names (to compare a recording with it). */
let ROOT = join(__dirname, '..', 'test', 'histories');
const indexFile = () => join(ROOT, 'index.json');

/**
 * The label of the histories the current code records, per workflow type (none: `<path>.json`).
 * A versioning change to a type bumps its label — after the histories of the old code are
 * committed — so that they stay as they are and the new code's are recorded beside them.
 */
const LABELS: Readonly<Record<string, string>> = {
  // verify-placement, behind patched('instance-create-verify-placement'): src/workflows/instance-create.ts
  instanceCreate: 'v2',
};

/** How a history ends, from its last event. */
function endOf(events: { eventType?: unknown }[]): string {
  const last = String(events.at(-1)?.eventType ?? '');
  const ends: [RegExp, string][] = [
    [/COMPLETED$/, 'COMPLETED'],
    [/CONTINUED_AS_NEW$/, 'CONTINUED_AS_NEW'],
    [/CANCELED$/, 'CANCELED'],
    [/TERMINATED$/, 'TERMINATED'],
    [/TIMED_OUT$/, 'TIMED_OUT'],
    [/FAILED$/, 'FAILED'],
  ];
  return ends.find(([pattern]) => pattern.test(last) && last.startsWith('EVENT_TYPE_WORKFLOW_EXECUTION'))?.[1] ?? 'RUNNING';
}

function readIndex(): CorpusEntry[] {
  return existsSync(indexFile()) ? (JSON.parse(readFileSync(indexFile(), 'utf8')) as CorpusEntry[]) : [];
}

function writeIndexAndReadme(entries: CorpusEntry[]): void {
  const kept = entries.filter((e) => existsSync(join(ROOT, e.file))).sort((a, b) => a.file.localeCompare(b.file));
  mkdirSync(ROOT, { recursive: true });
  writeFileSync(indexFile(), `${JSON.stringify(kept, null, 2)}\n`);
  const rows = kept.map((e) => `| \`${e.file}\` | ${e.label ?? '—'} | ${e.status} | ${e.events} | ${e.description} |`);
  const readme = [
    '# Replay corpus',
    '',
    'Histories of every workflow in `src/workflows/`, on its main paths, recorded against a dev server',
    '(a time-skipping server for the long waits) and a real rack. `test/replay.test.ts` replays every',
    'one of them with the current workflow code, one bundle for all: a change to a workflow that would',
    'make a running execution take another path — a step added, removed, renamed or reordered without',
    "`patched()` — fails that test, naming the history. It also fails when a workflow type exported from",
    '`src/workflows/index.ts` has no history here, or a named path of the corpus is missing.',
    '',
    '- `<workflowType>/<path>.json`: recorded by the code as the corpus began.',
    '- `<workflowType>/<path>.<label>.json` (`.v2`, …): recorded after a versioning change of that type.',
    '  The histories of the old code stay, unchanged, for as long as its patch does: they stand for the',
    '  executions still running it (see the README, "Changing a running saga type safely").',
    '- `index.json`: every file with its workflow id (replay needs it: child ids and keys derive from it),',
    '  how it ended, its size in events and what it shows. This table is generated from it.',
    '',
    'Refresh or extend with `npm run histories` (all types) or `npm run histories -- --only <type,…>`:',
    "it records each type's histories under that type's current label (`LABELS` in",
    '`scripts/record-histories.ts`) and never touches the files of other labels. After a versioning',
    "change of a type: commit its histories, bump its label, make the change, record it again.",
    'Inputs are fixed, so a refresh gives comparable files (rack ids and timestamps differ).',
    '',
    '| file | label | ended | events | what it shows |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'README.md'), readme);
}

// ---------------------------------------------------------------------------------------------
// Main

function parseArgs(argv: string[]): { only?: Set<string>; list: boolean; out?: string } {
  let only: Set<string> | undefined;
  let list = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only') {
      const value = argv[++i];
      if (!value) throw new Error('--only needs workflow types, e.g. --only instanceCreate,diskCreate');
      only = new Set(value.split(',').map((s) => s.trim()).filter(Boolean));
    } else if (arg.startsWith('--only=')) {
      only = new Set(arg.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean));
    } else if (arg === '--list') {
      list = true;
    } else if (arg === '--out') {
      out = argv[++i];
      if (!out) throw new Error('--out needs a folder');
    } else {
      throw new Error(`unknown argument ${arg}: use --only <type,…>, --out <folder> or --list`);
    }
  }
  const known = new Set(scenarios.flatMap((s) => s.types));
  for (const type of only ?? []) if (!known.has(type)) throw new Error(`no recording of ${type}; the types are ${[...known].sort().join(', ')}`);
  return { only, list, out };
}

const fileOf = (type: string, path: string) => `${type}/${path}${LABELS[type] ? `.${LABELS[type]}` : ''}.json`;

async function main(): Promise<void> {
  const { only, list, out } = parseArgs(process.argv.slice(2));
  if (out !== undefined) ROOT = resolve(out);
  const chosen = scenarios.filter((s) => !only || s.types.some((t) => only.has(t)));
  if (list) {
    for (const s of chosen) console.log(`${s.types.join(', ')} (${s.server ?? 'dev'} server) → ${s.types.map((t) => fileOf(t, '<path>')).join(', ')}`);
    return;
  }
  // Sagas that unwind are logged as failed workflows at WARN: expected here.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const started = Date.now();
  const index = readIndex();
  const written: string[] = [];
  const record = (c: TestWorkflowEnvironment['client']) => async (r: Recorded) => {
    if (only && !only.has(r.workflowType)) return;
    const history = await c.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
    const events = history.events ?? [];
    const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (type !== r.workflowType) throw new Error(`${r.workflowId} is a ${type}, not a ${r.workflowType}`);
    const file = fileOf(r.workflowType, r.path);
    const json = JSON.parse(historyToJSON(history)) as { events: { eventType?: unknown }[] };
    mkdirSync(join(ROOT, r.workflowType), { recursive: true });
    writeFileSync(join(ROOT, file), `${JSON.stringify(json)}\n`);
    const entry: CorpusEntry = {
      file,
      workflowType: r.workflowType,
      path: r.path,
      ...(LABELS[r.workflowType] && { label: LABELS[r.workflowType] }),
      workflowId: r.workflowId,
      status: endOf(json.events),
      events: events.length,
      description: r.description,
    };
    const at = index.findIndex((e) => e.file === file);
    if (at >= 0) index[at] = entry;
    else index.push(entry);
    written.push(`${file} (${entry.status}, ${entry.events} events)`);
    console.log(`  ${relative(process.cwd(), join(ROOT, file))}: ${entry.status}, ${entry.events} events`);
  };

  const onDev = chosen.filter((s) => (s.server ?? 'dev') === 'dev');
  const onTimeSkipping = chosen.filter((s) => s.server === 'time-skipping');
  for (const [server, list] of [['dev', onDev], ['time-skipping', onTimeSkipping]] as const) {
    if (list.length === 0) continue;
    const env = server === 'dev' ? await createDevServerEnv() : await createTimeSkippingEnv();
    const stops: (() => Promise<void>)[] = [];
    try {
      const bed = async (taskQueue: string, seed?: RackSeed) => {
        const b = await startRackSagaBed(env, { taskQueue, seed, deps: { stream: { chunkMs: 1 } } });
        stops.push(() => b.stop());
        return b;
      };
      const ssds = [{}, {}];
      const instances = await bed(`histories-instances-${server}`);
      const beds: Beds = {
        env,
        instances,
        sleds:
          server === 'dev'
            ? await bed('histories-sleds', {
                ipPool: '10.0.0.0/24',
                sleds: [{ cpus: 64, memoryGiB: 2048, ssds }, ...Array.from({ length: 5 }, () => ({ cpus: 64, memoryGiB: 256, ssds }))],
              })
            : instances,
        firmware:
          server === 'dev'
            ? await bed('histories-firmware', {
                ipPool: '10.0.0.0/24',
                sleds: Array.from({ length: 6 }, () => ({ cpus: 64, memoryGiB: 512, ssds: [{ redundancyGroup: 'rg-0' }, { redundancyGroup: 'rg-1' }] })),
              })
            : instances,
      };
      for (const scenario of list) {
        const t0 = Date.now();
        console.log(`${scenario.types.join(', ')} (${server} server)`);
        await scenario.run(beds, record(env.client));
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await env.teardown();
    }
  }
  writeIndexAndReadme(index);
  console.log(`recorded ${written.length} histories in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
