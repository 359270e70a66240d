/**
 * The bench's flags and their environment variables (`--help`).
 */
import type { ActivitySet } from './plan';


export interface Settings {
  rounds: number;
  sagas: number;
  concurrency: number;
  sets: ActivitySet[];
  warmup: number;
  failAt: number;
  park: number;
  releaseConcurrency: number;
  decideSamples: number;
  json: string;
  sagaTimeoutMs: number;
  deadlineMinutes: number;
  server: 'dev' | 'cluster';
}

export const OPTIONS: { flag: string; env: string; key: keyof Settings; default: string; help: string }[] = [
  { flag: '--rounds', env: 'VS_ROUNDS', key: 'rounds', default: '5', help: 'rounds, each one hand-written and one unwind phase per activity set' },
  { flag: '--sagas', env: 'VS_SAGAS', key: 'sagas', default: '100', help: 'sagas per side, set and round' },
  { flag: '--concurrency', env: 'VS_CONCURRENCY', key: 'concurrency', default: '20', help: 'sagas in flight at once in a round' },
  { flag: '--sets', env: 'VS_SETS', key: 'sets', default: 'trivial,rack', help: 'activity sets: trivial, rack' },
  { flag: '--warmup', env: 'VS_WARMUP', key: 'warmup', default: '20', help: 'unmeasured sagas per side and set before the first round' },
  { flag: '--fail-at', env: 'VS_FAIL_AT', key: 'failAt', default: '6', help: 'the step the failing runs fail at (rack: 6 only)' },
  { flag: '--park', env: 'VS_PARK', key: 'park', default: '2000', help: 'sagas parked per side awaiting approval (0: no parking); --park-10k for 10000' },
  { flag: '--release-concurrency', env: 'VS_RELEASE_CONCURRENCY', key: 'releaseConcurrency', default: '50', help: 'starts and decisions in flight at once when parking and releasing' },
  { flag: '--decide-samples', env: 'VS_DECIDE_SAMPLES', key: 'decideSamples', default: '5', help: 'parked sagas decided one at a time while all wait' },
  { flag: '--json', env: 'VS_JSON', key: 'json', default: 'bench/results/vs-handwritten.json', help: 'where the JSON report goes' },
  { flag: '--saga-timeout-ms', env: 'VS_SAGA_TIMEOUT_MS', key: 'sagaTimeoutMs', default: '120000', help: 'longest wait for one saga' },
  { flag: '--server', env: 'VS_SERVER', key: 'server', default: 'dev', help: 'dev (the dev server) or cluster (the Temporal server on PostgreSQL, as npm run cluster)' },
  { flag: '--deadline-min', env: 'VS_DEADLINE_MIN', key: 'deadlineMinutes', default: '90', help: 'the whole run stops (cleanly, partial JSON) after this' },
];

export function usage(): string {
  return [
    'npx tsx bench/vs-handwritten/main.ts [flags]    (npm run bench -- vs-handwritten: the same, settings from the environment)',
    ...OPTIONS.map((o) => `  ${`${o.flag} <v>`.padEnd(28)} ${o.env.padEnd(24)} ${o.help} (default ${o.default})`),
    `  ${'--park-10k'.padEnd(28)} ${'VS_PARK=10000'.padEnd(24)} park 10,000 sagas per side`,
    '  worker cache settings: UNWIND_MAX_CACHED_WORKFLOWS, UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS, UNWIND_REUSE_V8_CONTEXT, UNWIND_STICKY_TIMEOUT (defaults: README, Worker tuning)',
  ].join('\n');
}

export function fail(message: string): never {
  throw new Error(message);
}

export function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, string> = {};
  for (const o of OPTIONS) raw[o.key] = env[o.env] || o.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(usage());
      process.exit(0);
    }
    if (arg === '--park-10k') {
      raw.park = '10000';
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const option = OPTIONS.find((o) => o.flag === flag);
    const value = inline ?? argv[++i];
    if (!option || value === undefined || value === '') throw new Error(`${arg}: unknown flag or missing value\n${usage()}`);
    raw[option.key] = value;
  }
  const whole = (key: keyof Settings, min: number): number => {
    const value = raw[key]!;
    if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`${key} must be a whole number ≥ ${min} (got '${value}')`);
    return Number(value);
  };
  const sets = raw.sets!.split(',').map((s) => s.trim());
  if (sets.length === 0 || sets.some((s) => s !== 'trivial' && s !== 'rack')) throw new Error(`sets must be trivial, rack or both (got '${raw.sets}')`);
  const settings: Settings = {
    rounds: whole('rounds', 1),
    sagas: whole('sagas', 1),
    concurrency: whole('concurrency', 1),
    sets: sets as ActivitySet[],
    warmup: whole('warmup', 0),
    failAt: whole('failAt', 1),
    park: whole('park', 0),
    releaseConcurrency: whole('releaseConcurrency', 1),
    decideSamples: whole('decideSamples', 1),
    json: raw.json!,
    sagaTimeoutMs: whole('sagaTimeoutMs', 1000),
    deadlineMinutes: whole('deadlineMinutes', 1),
    server: raw.server === 'dev' || raw.server === 'cluster' ? raw.server : fail(`server must be dev or cluster (got '${raw.server}')`),
  };
  if (settings.failAt > 10) throw new Error(`fail-at must be a step from 1 to 10 (got ${settings.failAt})`);
  if (settings.sets.includes('rack') && settings.failAt !== 6) throw new Error('on the rack set only step 6 can fail: --fail-at 6');
  if (settings.park > 0 && settings.park <= 2 * settings.decideSamples) throw new Error(`--park must exceed twice --decide-samples (${2 * settings.decideSamples})`);
  return settings;
}

