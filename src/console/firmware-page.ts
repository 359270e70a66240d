/**
 * The firmware page: what `unwind firmware targets` and `unwind firmware status` show — each
 * model's target version with how many SSDs run it, and each running rollout with its progress
 * and the SSDs that wait, with why (and whether an operator is needed).
 */
import type { FirmwareRolloutStatus } from '../schemas/firmware';
import type { ConsoleContext } from './context';
import { type Html, h } from './html';
import { ago, progress } from './widgets';

async function targets(context: ConsoleContext): Promise<Html> {
  if (!context.rack) return h`<p class="muted">No rack configured: start the console with UNWIND_RACK_URL set to see the targets.</p>`;
  const [list, ssds] = await Promise.all([context.rack.list('firmware'), context.rack.list('ssds')]);
  if (list.length === 0) return h`<p>No firmware targets. Set one with <code>unwind firmware set-target --model … --version …</code>.</p>`;
  const now = context.now();
  return h`<table aria-label="Firmware targets"><thead><tr><th scope="col">Model</th><th scope="col">Target version</th><th scope="col">SSDs at it</th><th scope="col">Set</th></tr></thead><tbody>
${list.map((t) => {
  const mine = ssds.filter((s) => s.model === t.model);
  const at = mine.filter((s) => s.firmwareVersion === t.version).length;
  return h`<tr><td>${t.model}</td><td>${t.version}</td><td>${progress(at, mine.length, `${t.model} SSDs at ${t.version}`)}</td><td>${ago(t.setAt, now)}</td></tr>`;
})}</tbody></table>`;
}

function rollout(r: FirmwareRolloutStatus, now: Date): Html {
  const c = r.counts;
  const waiting = r.ssds.filter((s) => s.state !== 'done' && s.state !== 'pending');
  return h`<section aria-label="Rollout ${r.model} to ${r.version}"><h3>${r.model} → ${r.version} <span class="muted">(${r.workflowId})</span></h3>
<p>Phase <strong>${r.phase}</strong>${r.reason ? `: ${r.reason}` : ''}; started ${ago(r.startedAt, now)}; ${r.waves.length} wave${r.waves.length === 1 ? '' : 's'}.</p>
${progress(c.done ?? 0, r.total, `${r.model} rollout progress`)}
<p>in progress ${c['in-progress'] ?? 0} · pending ${c.pending ?? 0} · deferred ${c.deferred ?? 0} · blocked ${c.blocked ?? 0} · failed ${c.failed ?? 0}</p>
${waiting.length ? h`<table aria-label="SSDs that wait"><thead><tr><th scope="col">SSD</th><th scope="col">State</th><th scope="col">Operator</th><th scope="col">Since</th><th scope="col">Why</th></tr></thead><tbody>
${waiting.map((s) => h`<tr><td>${s.ssdId}</td><td>${s.state}</td><td>${s.needsOperator ? h`<span class="badge red">needed</span>` : '-'}</td><td>${ago(s.since, now)}</td><td>${s.detail ?? ''}</td></tr>`)}</tbody></table>` : h`<p class="muted">No SSD waits.</p>`}
</section>`;
}

/** The firmware page's content. */
export async function firmwareBody(context: ConsoleContext): Promise<Html> {
  const now = context.now();
  const [targetTable, { rollouts, unanswered }] = await Promise.all([targets(context), context.client.firmware.rollouts()]);
  return h`<h1>Firmware</h1><h2>Targets</h2>${targetTable}
<h2>Running rollouts</h2>${rollouts.length ? rollouts.map((r) => rollout(r, now)) : h`<p>No rollout is running.</p>`}
${unanswered.map((id) => h`<p class="error-box">Rollout ${id} did not answer its status query: is an unwind worker running?</p>`)}`;
}
