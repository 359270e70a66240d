/**
 * The errors page: `unwind errors` in a table — recent failures grouped by saga type, step and
 * error type, largest group first, one line per group with its latest example linked.
 */
import type { ConsoleContext } from './context';
import { type Html, h } from './html';
import { liveRegion } from './layout';
import { durationProblem } from './list';
import { parseDuration } from '../cli/format';
import { ago } from './widgets';
import { sagaPagePath } from './saga-page';

const WINDOWS = ['15m', '1h', '24h', '7d'] as const;
/** Groups shown, largest first (as `unwind errors` shows by default). */
const GROUPS = 50;

/** The groups table: the live part of the page. */
export async function errorsTable(context: ConsoleContext, window: string): Promise<Html> {
  const now = context.now();
  const since = new Date(now.getTime() - parseDuration(window, 'since'));
  const groups = await context.client.sagas.errors({ since, limit: GROUPS });
  if (groups.length === 0) return h`<p>No failures within ${window}.</p>`;
  const total = groups.reduce((sum, g) => sum + g.count, 0);
  return h`<p>${total} failure${total === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'} within ${window}${groups.length === GROUPS ? ' (the largest groups)' : ''}.</p>
<table aria-label="Failures by saga, step and error"><thead><tr><th scope="col" class="num">Count</th><th scope="col">Saga</th><th scope="col">Step</th><th scope="col">Error</th><th scope="col">Last</th><th scope="col">Example</th><th scope="col">Message</th></tr></thead><tbody>
${groups.map((g) => h`<tr><td class="num">${g.count}</td><td>${g.saga}</td><td>${g.step ?? '-'}</td><td><code>${g.errorType}</code></td><td>${ago(g.lastAt, now)}</td>
<td><a href="${sagaPagePath(g.example.workflowId)}">${g.example.workflowId}</a></td><td>${g.example.message ?? h`<span class="muted">(not read in time)</span>`}</td></tr>`)}
</tbody></table>`;
}

/** The errors page's content; `problem` names a bad window. */
export async function errorsBody(context: ConsoleContext, params: Record<string, string | undefined>): Promise<{ body: Html; fragment: () => Promise<Html>; status: 200 | 400 }> {
  const window = params.since?.trim() || '1h';
  const problem = durationProblem('since', window);
  const choice = (w: string) => h`<option value="${w}"${w === window ? h` selected` : ''}>${w}</option>`;
  const form = h`<h1>Errors</h1><form class="filters" method="get" action="/errors" aria-label="Window">
<div><label for="since">Within</label><select id="since" name="since">${((WINDOWS as readonly string[]).includes(window) ? WINDOWS : [...WINDOWS, window]).map(choice)}</select></div>
<div><button type="submit" class="primary">Show</button></div></form>`;
  if (problem) {
    const box = h`<div class="error-box" role="alert">${problem}</div>`;
    return { body: h`${form}${box}`, fragment: async () => box, status: 400 };
  }
  const fragment = () => errorsTable(context, window);
  const url = `/errors?${new URLSearchParams({ since: window, fragment: '1' })}`;
  return { body: h`${form}${liveRegion('errors', url, await fragment(), 10_000)}`, fragment, status: 200 };
}
