/**
 * `unwind firmware …`: the desired SSD firmware (a rack target per model), the rollouts that
 * bring SSDs to it, and the reconciler that starts them.
 *
 * `set-target` and `targets` talk to the rack only; `status`, `reconcile` and `schedule` need
 * Temporal, through the client's `firmware` (loaded when a command connects).
 */
import type { Command } from 'commander';
import { FirmwareSetTargetInput } from '../rack/schemas';
import type { FirmwareRolloutStatus } from '../schemas/firmware';
import type { CliContext } from './context';
import { usageError } from './exit-codes';
import { checkFlags } from './flags';
import { formatAgo, parseDuration, renderTable } from './format';

interface JsonOpts {
  json?: boolean;
}

/** `[##########----------]  50%`: a text progress bar, `width` cells wide. */
export function progressBar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/** The text form of one rollout's status. */
export function renderRollout(status: FirmwareRolloutStatus, now: Date = new Date()): string {
  const c = status.counts;
  const lines = [
    `${status.model} -> ${status.version}  (${status.workflowId}, ${status.phase}${status.reason ? `: ${status.reason}` : ''})`,
    `  ${progressBar(c.done, status.total)}  ${c.done}/${status.total} done`,
    `  in progress ${c['in-progress']}  pending ${c.pending}  deferred ${c.deferred}  blocked ${c.blocked}  failed ${c.failed}  ` +
      `waves ${status.waves.length}  started ${formatAgo(status.startedAt, now)}`,
  ];
  const open = status.ssds.filter((s) => s.state !== 'done' && s.state !== 'pending');
  if (open.length > 0) {
    lines.push(
      '',
      renderTable(
        ['SSD', 'STATE', 'OPERATOR', 'SINCE', { header: 'DETAIL', maxWidth: 100 }],
        open.map((s) => [s.ssdId, s.state, s.needsOperator ? 'needed' : '-', s.since ? formatAgo(s.since, now) : '-', s.detail]),
      ).replace(/^/gm, '  '),
    );
  }
  return lines.join('\n');
}

/** Registers `unwind firmware` and its subcommands. */
export function register(program: Command, context: CliContext): void {
  const firmware = program
    .command('firmware')
    .description('desired SSD firmware per model, rollouts and the reconciler')
    .addHelpText(
      'after',
      '\nA target is part of the rack\'s desired state; the reconciler (on a Temporal Schedule, or\n' +
        "'unwind firmware reconcile') starts or resumes the rollout of every target that SSDs drift from.",
    );

  firmware
    .command('set-target')
    .description('set the firmware version every SSD of a model should run')
    .requiredOption('--model <model>', 'the SSD model, e.g. SIM-NVME-3.2T')
    .requiredOption('--version <version>', 'the firmware version, e.g. 2.1.0')
    .option('--reconcile', 'run the reconciler now, starting the rollout (needs Temporal)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpts & { model: string; version: string; reconcile?: boolean }) => {
      // The rack's own input schema, checked before connecting: a typo is exit 2, not a refusal.
      checkFlags(FirmwareSetTargetInput, { model: opts.model, version: opts.version }, { model: '--model', version: '--version' }, {
        help: 'unwind firmware set-target',
      });
      const known = await context.rack().list('ssds', { model: opts.model });
      if (known.length === 0) context.note(`note: no SSD of model ${opts.model} is installed yet; the target applies to those added later`);
      const target = await context.rack().firmware.setTarget(
        { model: opts.model, version: opts.version },
        `unwind-cli/firmware.setTarget/${opts.model}/${opts.version}/${Date.now()}`,
      );
      let reconciled: unknown;
      if (opts.reconcile) reconciled = await (await context.temporal()).firmware.reconcile();
      context.emit(opts.json, { target, reconciled }, () =>
        `${target.model}: target firmware ${target.version}` +
        (opts.reconcile ? '; reconciler triggered' : "; the reconciler picks it up on its schedule (or run 'unwind firmware reconcile')"),
      );
    });

  firmware
    .command('targets')
    .description('every firmware target, with how many SSDs run it')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpts) => {
      const [targets, ssds] = await Promise.all([context.rack().list('firmware'), context.rack().list('ssds')]);
      const rows = targets.map((t) => {
        const mine = ssds.filter((s) => s.model === t.model);
        return { ...t, ssds: mine.length, atVersion: mine.filter((s) => s.firmwareVersion === t.version).length };
      });
      context.emit(opts.json, rows, (list) =>
        list.length === 0
          ? "no firmware targets: set one with 'unwind firmware set-target --model … --version …'"
          : renderTable(
              ['MODEL', 'VERSION', 'PROGRESS', { header: 'AT VERSION', align: 'right' }, 'SET'],
              list.map((t) => [t.model, t.version, progressBar(t.atVersion, t.ssds, 20), `${t.atVersion}/${t.ssds}`, formatAgo(t.setAt)]),
              { color: context.color },
            ),
      );
    });

  firmware
    .command('status')
    .description('progress of every running rollout: per-SSD state, waves, what waits for an operator')
    .option('--model <model>', 'only the rollout of this model')
    .option('--all', 'list done SSDs too (with --json)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpts & { model?: string; all?: boolean }) => {
      const { rollouts, unanswered } = await (await context.temporal()).firmware.rollouts({ model: opts.model, includeDone: opts.all });
      for (const id of unanswered) context.note(`note: rollout ${id} did not answer its status query: is an unwind worker running?`);
      context.emit(opts.json, { rollouts, unanswered }, ({ rollouts: list }) =>
        list.length === 0 ? 'no rollout is running' : list.map((r) => renderRollout(r)).join('\n\n'),
      );
    });

  firmware
    .command('reconcile')
    .description('run the reconciler now: start or resume the rollout of every target SSDs drift from')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpts) => {
      const outcome = await (await context.temporal()).firmware.reconcile();
      context.emit(opts.json, outcome, (o) =>
        o.via === 'schedule'
          ? `reconciler triggered through schedule ${o.scheduleId}`
          : `reconciler ran (${o.workflowId}): ${o.result.rollouts.length === 0 ? 'no drift' : `rollouts ${o.result.rollouts.join(', ')}`}`,
      );
    });

  firmware
    .command('schedule')
    .description('create or update the Temporal Schedule that runs the reconciler')
    .option('--every <duration>', 'how often, e.g. 10m or 1h', '10m')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpts & { every: string }) => {
      const everyMs = parseDuration(opts.every, '--every');
      if (everyMs < 1_000) throw usageError(`--every: '${opts.every}' is under a second`, 'give at least 1s, e.g. 10m');
      const result = await (await context.temporal()).firmware.schedule({ everyMs });
      context.emit(opts.json, { ...result, everyMs }, (r) => `${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: the reconciler runs every ${opts.every}`);
    });
}
