/**
 * `unwind rack …`: look at and steer the (simulated) rack directly — its hardware, every
 * allocation, the ledger of applied effects, and fault injection for testing sagas.
 *
 * These commands talk to the rack's HTTP API only; they never need Temporal.
 */
import { Argument, type Command, Option } from 'commander';
import type { z } from 'zod';
import {
  type FaultState,
  type Inventory,
  type LedgerEntry,
  type ResourceName,
  FaultKind,
  FaultRule,
  ScriptedFault,
  mutations,
  resources,
} from '../rack/schemas';
import { FAULT_OPERATIONS, validFaultOperations } from '../rack/faults';
import type { CliContext } from './context';
import { usageError } from './exit-codes';
import { checkFlags } from './flags';
import { type Column, cellText, formatAgo, formatDuration, parseDuration, renderTable } from './format';

const RESOURCE_NAMES = Object.keys(resources) as ResourceName[];
const MUTATION_NAMES = Object.keys(mutations);
const PERMANENT_CLASSES = ['refused', 'needs-operator', 'unknown-state'] as const;
// The fields of each resource, from its schema: the only valid `--filter` fields and the table columns.
const fieldsOf = (resource: ResourceName): string[] => Object.keys(resources[resource].shape);

/**
 * Registers `unwind rack` and its subcommands on `program`.
 *
 * @param context supplies the rack client (from `--rack-url`/`UNWIND_RACK_URL`) and output
 */
export function register(program: Command, context: CliContext): void {
  const rack = program
    .command('rack')
    .description('inspect the rack, its allocations and ledger; inject faults for testing')
    .addHelpText('after', `\nThe rack is found at --rack-url, else UNWIND_RACK_URL, else http://127.0.0.1:7280.`);

  withJson(rack.command('status'))
    .description('sleds with CPU and memory used/total and the replacement holding each, and counts of instances, disks and regions')
    .action(async (opts: JsonOpts) => {
      const r = context.rack();
      const [sleds, instances, disks, regions] = await Promise.all([
        r.list('sleds'),
        r.list('instances'),
        r.list('disks'),
        r.list('regions'),
      ]);
      const counts = { instances: instances.length, disks: disks.length, regions: regions.length };
      context.emit(opts.json, { sleds, counts }, () =>
        [
          renderTable(
            ['SLED', 'SERIAL', 'STATE', 'PROVISIONABLE', right('CPUS USED/TOTAL'), right('MEMORY GIB USED/TOTAL'), 'HELD BY'],
            sleds.map((s) => [s.id, s.serial, s.state, s.provisionable, `${s.cpusUsed}/${s.cpus}`, `${s.memoryGiBUsed}/${s.memoryGiB}`, s.replacementId ?? '-']),
            { color: context.color },
          ),
          '',
          `${sleds.filter((s) => s.state === 'online').length}/${sleds.length} sleds online; ` +
            `instances: ${counts.instances}  disks: ${counts.disks}  regions: ${counts.regions}`,
        ].join('\n'),
      );
    });

  withJson(rack.command('inventory'))
    .description('every allocation (instances, VMMs, disks, regions, IPs, NICs, V2P mappings, reservations)')
    .addHelpText('after', '\nPrints "clean: no allocations" on a clean slate. Exits 0 either way: compare the total in --json to assert.')
    .action(async (opts: JsonOpts) => {
      const inventory = await context.rack().inventory();
      context.emit(opts.json, inventory, renderInventory);
    });

  withJson(rack.command('list'))
    .description('list one kind of resource, optionally filtered by exact field values')
    .addArgument(new Argument('<resource>', 'what to list').choices(RESOURCE_NAMES))
    .option('--filter <field=value>', 'keep rows whose field equals value (repeatable; all must match)', collect, [])
    .action(async (resource: ResourceName, opts: JsonOpts & { filter: string[] }) => {
      const filter = parseFilters(resource, opts.filter);
      const items = (await context.rack().list(resource, filter as never)) as Record<string, unknown>[];
      const fields = fieldsOf(resource);
      context.emit(opts.json, items, () =>
        items.length === 0
          ? `no ${resource}${opts.filter.length ? ` matching ${opts.filter.join(', ')}` : ''}`
          : renderTable(columnsFor(fields, items), items.map((item) => fields.map((f) => item[f])), { color: context.color }),
      );
    });

  withJson(rack.command('get'))
    .description('one resource by id')
    .addArgument(new Argument('<resource>', 'its kind').choices(RESOURCE_NAMES))
    .argument('<id>', 'its id, e.g. sled-0')
    .action(async (resource: ResourceName, id: string, opts: JsonOpts) => {
      const item = (await context.rack().get(resource, id)) as Record<string, unknown>;
      context.emit(opts.json, item, () => renderTable(['FIELD', 'VALUE'], Object.entries(item), { color: context.color, maxCellWidth: 100 }));
    });

  withJson(rack.command('ledger'))
    .description('the applied effects, oldest first')
    .addOption(new Option('--operation <operation>', 'only this mutation, e.g. regions.ensure').choices(MUTATION_NAMES))
    .option('--key <key>', 'only this idempotency key, e.g. <workflowId>/<step>')
    .option('--resource-id <id>', 'only effects on this resource')
    .option('--since <duration>', 'only effects newer than this, e.g. 10m, 2h', (v) => parseDuration(v, '--since'))
    .action(async (opts: JsonOpts & { operation?: string; key?: string; resourceId?: string; since?: number }) => {
      let entries = await context.rack().ledger({ operation: opts.operation, key: opts.key, resourceId: opts.resourceId });
      if (opts.since !== undefined) {
        const cutoff = Date.now() - opts.since;
        entries = entries.filter((e) => Date.parse(e.at) >= cutoff);
      }
      context.emit(opts.json, entries, (list) => renderLedger(list, context.color));
    });

  registerFaults(rack, context);

  withJson(rack.command('reset'))
    .description('wipe the rack (state, keys, ledger, faults) and seed it again')
    .option('--yes', 'confirm: every allocation and the ledger are lost')
    .action(async (opts: JsonOpts & { yes?: boolean }) => {
      if (!opts.yes) {
        throw usageError('rack reset wipes every allocation, the ledger and all faults', 'rerun with --yes to confirm');
      }
      const r = context.rack();
      await r.reset();
      const sleds = await r.list('sleds');
      context.emit(opts.json, { reset: true, sleds: sleds.length }, () => `rack reset: ${sleds.length} sleds, no allocations, no faults`);
    });
}

function registerFaults(rack: Command, context: CliContext): void {
  const fault = rack
    .command('fault')
    .description('inject faults into rack operations (for testing sagas against failures)')
    .addHelpText('after', `\nOperations: * (every operation without its own rule), a mutation\n  (${MUTATION_NAMES.join(', ')}),\n  or a read <resource>.list|get (resources: ${RESOURCE_NAMES.join(', ')}).`);

  withJson(fault.command('set'))
    .description('set the standing fault rule of an operation (replaces its previous rule)')
    .addArgument(operationArgument())
    .option('--rate <0..1>', 'share of calls failing transiently (503), nothing applied', (v) => parseRate(v, '--rate'))
    .option('--ambiguous-rate <0..1>', 'share of calls applied and committed, then answered 503', (v) => parseRate(v, '--ambiguous-rate'))
    .option('--latency <duration>', 'delay before every call, e.g. 200ms, 2s', (v) => parseLatency(v))
    .addOption(new Option('--permanent <class>', 'every call fails with this class, nothing applied').choices(PERMANENT_CLASSES))
    .action(async (operation: string, opts: JsonOpts & { rate?: number; ambiguousRate?: number; latency?: number; permanent?: FaultRule['permanent'] }) => {
      if (opts.rate === undefined && opts.ambiguousRate === undefined && opts.latency === undefined && opts.permanent === undefined) {
        throw usageError(
          `rack fault set ${operation}: no fault given`,
          'give at least one of --rate, --ambiguous-rate, --latency, --permanent (to remove faults: unwind rack fault clear)',
        );
      }
      const rule: z.input<typeof FaultRule> = {
        operation,
        transientRate: opts.rate,
        ambiguousRate: opts.ambiguousRate,
        latencyMs: opts.latency,
        permanent: opts.permanent,
      };
      // The rack's schema (e.g. the two rates add up to at most 1), checked before connecting.
      checkFlags(FaultRule, rule, RULE_FLAGS, { help: 'unwind rack fault set' });
      const state = await context.rack().faults.setRule(rule);
      context.emit(opts.json, state, (s) => {
        const set = s.rules.find((r) => r.operation === operation);
        return set ? `fault rule set: ${describeRule(set)}` : `fault rule set on ${operation}`;
      });
    });

  withJson(fault.command('next'))
    .description('make the next call(s) of an operation fail once with a given kind (one-shot, scripted)')
    .addArgument(operationArgument())
    .addOption(new Option('--kind <kind>', 'how the calls fail').choices(FaultKind.options).makeOptionMandatory())
    .option('--count <n>', 'how many calls fail', (v) => parseCount(v, '--count'), 1)
    .addOption(new Option('--status <status>', 'HTTP status of a transient or ambiguous fault').choices(['500', '502', '503', '504']))
    .action(async (operation: string, opts: JsonOpts & { kind: FaultKind; count: number; status?: string }) => {
      const scripted: z.input<typeof ScriptedFault> = {
        operation,
        kind: opts.kind,
        count: opts.count,
        ...(opts.status !== undefined && { status: Number(opts.status) as 500 | 502 | 503 | 504 }),
      };
      const state = await context.rack().faults.script(scripted);
      context.emit(opts.json, state, () => `next ${opts.count === 1 ? 'call' : `${opts.count} calls`} of ${operation} will fail: ${opts.kind}`);
    });

  withJson(fault.command('list'))
    .description('the fault rules and scripted faults in force')
    .action(async (opts: JsonOpts) => {
      const state = await context.rack().faults.get();
      context.emit(opts.json, state, (s) => renderFaults(s, context.color));
    });

  withJson(fault.command('clear'))
    .description('remove the faults of one operation, or all faults')
    .addArgument(operationArgument().argOptional())
    .action(async (operation: string | undefined, opts: JsonOpts) => {
      const state = await context.rack().faults.clear(operation);
      context.emit(opts.json, state, () => (operation === undefined ? 'cleared all faults' : `cleared the faults of ${operation}`));
    });

  withJson(fault.command('seed'))
    .description('restart the fault PRNG with a seed, so a run of random faults can be repeated')
    .argument('<seed>', 'an integer from 0 to 4294967295', (v) => parseSeed(v))
    .action(async (seed: number, opts: JsonOpts) => {
      const state = await context.rack().faults.seed(seed);
      context.emit(opts.json, state, () => `fault seed set to ${seed}`);
    });
}

// ---------------------------------------------------------------------------------------
// Parsing flags

interface JsonOpts {
  json?: boolean;
}

function withJson(command: Command): Command {
  return command.option('--json', 'print machine-readable JSON');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The flag each field of a fault rule comes from. */
const RULE_FLAGS = {
  operation: '<operation>',
  transientRate: '--rate',
  ambiguousRate: '--ambiguous-rate',
  latencyMs: '--latency',
  permanent: '--permanent',
} as const;

function operationArgument(): Argument {
  return new Argument('<operation>', 'a rack operation, e.g. regions.ensure, sleds.list, or *').argParser(parseOperation);
}

/**
 * Checks an operation name before anything connects: the CLI knows the rack's operations (the
 * same list the rack checks, src/rack/faults.ts), so an unknown one is a usage error (exit 2,
 * nothing sent), with the valid ones. A rack of another version refusing one is exit 5.
 */
export function parseOperation(value: string): string {
  if (FAULT_OPERATIONS.includes(value)) return value;
  throw usageError(`unknown operation '${value}'`, `${validFaultOperations(value)} (see 'unwind rack fault --help')`);
}

function parseRate(value: string, flag: string): number {
  const rate = Number(value);
  if (value.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw usageError(`${flag}: '${value}' is not a rate`, 'give a number from 0 to 1, e.g. 0.3');
  }
  return rate;
}

function parseLatency(value: string): number {
  const ms = parseDuration(value, '--latency');
  if (ms > 600_000) throw usageError(`--latency: '${value}' is too long`, 'give at most 10m');
  return ms;
}

function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) {
    throw usageError(`${flag}: '${value}' is not a count`, 'give a whole number from 1 to 10000');
  }
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 0xffffffff) {
    throw usageError(`seed '${value}' is not a 32-bit unsigned integer`, 'give a whole number from 0 to 4294967295');
  }
  return n;
}

function parseFilters(resource: ResourceName, filters: readonly string[]): Record<string, string> {
  const fields = fieldsOf(resource);
  const filter: Record<string, string> = {};
  for (const text of filters) {
    const eq = text.indexOf('=');
    const field = eq > 0 ? text.slice(0, eq) : '';
    if (eq <= 0) throw usageError(`--filter: '${text}' is not field=value`, `e.g. --filter ${fields[1] ?? 'id'}=…`);
    if (!fields.includes(field)) {
      throw usageError(`--filter: ${resource} have no field '${field}'`, `filter by one of ${fields.join(', ')}`);
    }
    filter[field] = text.slice(eq + 1);
  }
  return filter;
}

// ---------------------------------------------------------------------------------------
// Rendering

function right(header: string): Column {
  return { header, align: 'right' };
}

function columnsFor(fields: readonly string[], items: readonly Record<string, unknown>[]): Column[] {
  // Numbers line up on the right; everything else reads left to right.
  return fields.map((f) => ({
    // `memoryGiBUsed` → `MEMORY_GIB_USED`: GiB is one word.
    header: f.replace('GiB', 'Gib').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase(),
    align: items.length > 0 && items.every((i) => typeof i[f] === 'number') ? 'right' : 'left',
  }));
}

const INVENTORY_KINDS = ['instances', 'vmms', 'disks', 'regions', 'ips', 'nics', 'v2p', 'reservations'] as const satisfies readonly (keyof Inventory)[];

/** `clean: no allocations`, or one row per allocation with its kind, id and other fields. */
function renderInventory(inventory: Inventory): string {
  if (inventory.total === 0) return 'clean: no allocations';
  const rows = INVENTORY_KINDS.flatMap((kind) =>
    (inventory[kind] as Record<string, unknown>[]).map((item) => [
      kind,
      item.id,
      Object.entries(item)
        .filter(([k]) => k !== 'id')
        .map(([k, v]) => `${k}=${cellText(v)}`)
        .join(' '),
    ]),
  );
  return `${renderTable(['KIND', 'ID', { header: 'DETAILS', maxWidth: 100 }], rows)}\n\n${inventory.total} allocation${inventory.total === 1 ? '' : 's'}`;
}

function renderLedger(entries: readonly LedgerEntry[], color: boolean): string {
  if (entries.length === 0) return 'no ledger entries';
  const now = new Date();
  return renderTable(
    [right('SEQ'), 'WHEN', 'OPERATION', 'EFFECT', 'RESOURCE', 'KEY'],
    entries.map((e) => [e.seq, formatAgo(e.at, now), e.operation, e.effect, `${e.resourceType}/${e.resourceId}`, e.key]),
    { color },
  );
}

function describeRule(rule: FaultRule): string {
  const parts = [
    rule.transientRate > 0 && `transient ${rule.transientRate}`,
    rule.ambiguousRate > 0 && `ambiguous ${rule.ambiguousRate}`,
    rule.latencyMs > 0 && `latency ${formatDuration(rule.latencyMs)}`,
    rule.permanent !== undefined && `permanent ${rule.permanent}`,
  ].filter(Boolean);
  return `${rule.operation}: ${parts.length ? parts.join(', ') : 'no effect'}`;
}

function renderFaults(state: FaultState, color: boolean): string {
  if (state.rules.length === 0 && state.scripted.length === 0) return `no faults set (seed ${state.seed})`;
  const out: string[] = [];
  if (state.rules.length > 0) {
    out.push(
      renderTable(
        ['OPERATION', right('TRANSIENT'), right('AMBIGUOUS'), right('LATENCY'), 'PERMANENT'],
        state.rules.map((r) => [r.operation, r.transientRate, r.ambiguousRate, r.latencyMs ? formatDuration(r.latencyMs) : 0, r.permanent]),
        { color },
      ),
    );
  }
  if (state.scripted.length > 0) {
    if (out.length) out.push('');
    out.push(
      renderTable(
        ['OPERATION', 'NEXT', right('REMAINING'), 'STATUS'],
        state.scripted.map((s) => [s.operation, s.kind, s.count, s.status]),
        { color },
      ),
    );
  }
  out.push('', `fault seed ${state.seed}`);
  return out.join('\n');
}
