/** Residue: what skipped undos left in the rack, by step and key or, with the ledger, by resource. */
import type { LedgerEntry } from '../../rack/schemas';
import { idempotencyKey, type SagaStatus, type StepStatus } from '../../schemas/saga';
import { formatAgo } from '../format';
import { shellWord, waitLabel } from './commands';
import type { ResolvedViewOptions } from './view-options';

/** The steps whose undo an operator skipped, in the order they were skipped, with the decision. */
function skippedSteps(status: SagaStatus): { step: StepStatus; key: string; decision: SagaStatus['decisions'][number] | undefined }[] {
  const decided = (name: string) => status.decisions.filter((d) => d.action === 'skip' && d.step === name).at(-1);
  const order = (name: string) => {
    const d = decided(name);
    return d === undefined ? Number.POSITIVE_INFINITY : status.decisions.indexOf(d);
  };
  return status.steps
    .filter((step) => step.state === 'skipped')
    .sort((a, b) => order(a.name) - order(b.name))
    .map((step) => ({ step, key: idempotencyKey(status.workflowId, step.name), decision: decided(step.name) }));
}

/**
 * The idempotency keys (`<workflowId>/<step>`) of the steps whose undo an operator skipped: what
 * their actions did is in the rack's ledger under these keys (and keys they prefix). `unwind
 * show` fetches those rows and passes them to {@link renderSagaView} as `ledger`.
 */
export function residueKeys(status: SagaStatus): string[] {
  return skippedSteps(status).map((s) => s.key);
}

/** True for a ledger key written by an undo: `<key>/undo`, or below it. */
const UNDO_KEY = /\/undo(\/|$)/;

/**
 * The residue section: each skipped undo with who skipped it, when and why, its key, and — with
 * the rack's ledger rows under the key — the resources its action touched, by type and id
 * (effects an undo got to before it failed marked "by its undo"). Empty for a clean saga.
 */
export function renderResidue(status: SagaStatus, ledger: readonly LedgerEntry[] | undefined, o: ResolvedViewOptions): string[] {
  const skipped = skippedSteps(status);
  if (skipped.length === 0) return [];
  const lines = [
    o.style.bold(`residue: ${skipped.length} skipped undo${skipped.length === 1 ? '' : 's'} left what ${skipped.length === 1 ? 'its action' : 'their actions'} did in the rack`),
  ];
  for (const { step, key, decision } of skipped) {
    const who = decision ? ` by ${decision.operator} ${formatAgo(decision.at, o.now)}: ${decision.reason}` : '';
    lines.push(`  ${step.name}${waitLabel(decision?.waitId)}: undo skipped${who}`);
    if (ledger === undefined) {
      lines.push(`    key ${key}; its effects: unwind rack ledger --key ${shellWord(key)}`);
      continue;
    }
    lines.push(`    key ${key}`);
    const rows = ledger.filter((r) => r.key === key || r.key.startsWith(`${key}/`));
    if (rows.length === 0) {
      lines.push("    no effect under this key in the rack's ledger: its action never applied");
      continue;
    }
    const resources = new Map<string, string[]>();
    for (const r of [...rows].sort((a, b) => a.seq - b.seq)) {
      const name = `${r.resourceType} ${r.resourceId}`;
      const byUndo = UNDO_KEY.test(r.key.slice(key.length)) ? ' by its undo' : '';
      resources.set(name, [...(resources.get(name) ?? []), `${r.effect}${byUndo} (${r.operation})`]);
    }
    for (const [name, effects] of resources) lines.push(`    ${name}: ${effects.join('; ')}`);
  }
  return lines;
}
