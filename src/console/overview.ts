/**
 * The overview: how many sagas are in each state, "needs a person" first (needs-operator,
 * stuck, awaiting-approval, stalled), then those at work, then how sagas ended within a chosen
 * window. Live states count every saga in them now, however old (a saga stuck for three days
 * still needs a person); ended states count those that ended within the window. Visibility
 * counts (`sagas.count`): no rows are read, so it stays fast with any number of sagas.
 */
import type { SagaListFilter } from '../client';
import { parseDuration } from '../cli/format';
import type { SagaState } from '../schemas/saga';
import type { ConsoleContext } from './context';
import { type Html, h } from './html';
import { liveRegion } from './layout';
import { durationProblem, listQueryString } from './list';

/** The windows offered, and the default. */
const WINDOWS = ['1h', '24h', '7d', '30d'] as const;
const DEFAULT_WINDOW = '24h';
/** No progress for this long counts a running saga as stalled, unless told. */
const DEFAULT_STALLED = '10m';

interface Card {
  label: string;
  help: string;
  filter: SagaListFilter;
  /** The list it links to. */
  link: { state?: SagaState; stalled?: string; within?: string };
}

function cards(window: string, stalled: string, now: Date): { person: Card[]; working: Card[]; ended: Card[] } {
  const live = (state: SagaState, help: string): Card => ({ label: state, help, filter: { state }, link: { state } });
  const since = new Date(now.getTime() - parseDuration(window, 'window'));
  const ended = (state: SagaState, help: string): Card => ({ label: state, help, filter: { state, changedSince: since }, link: { state, within: window } });
  return {
    person: [
      live('needs-operator', 'a step failed and waits for retry or unwind'),
      live('stuck', 'an undo failed and waits for retry or skip'),
      live('awaiting-approval', 'an approver must decide'),
      { label: 'stalled', help: `running, no progress for ${stalled}`, filter: { stalledFor: parseDuration(stalled, 'stalled') }, link: { stalled } },
    ],
    working: [live('running', 'making progress'), live('unwinding', 'undoing its steps')],
    ended: [
      ended('completed', 'finished'),
      ended('unwound', 'failed and undid every step'),
      ended('unwound-with-residue', 'unwound; an undo was skipped, its effect stays'),
      ended('cancelled', 'cancelled by request'),
      ended('failed', 'ended on an error without unwinding'),
    ],
  };
}

async function cardGrid(context: ConsoleContext, list: readonly Card[], alert: boolean): Promise<Html> {
  const counts = await Promise.all(list.map((card) => context.client.sagas.count(card.filter)));
  return h`<div class="cards">${list.map((card, i) => {
    const n = counts[i] ?? 0;
    return h`<a class="card${alert && n > 0 ? ' alert' : ''}" href="/sagas${listQueryString({ page: 1, ...card.link })}" data-count="${card.label}">
<span class="n">${n}</span><strong>${card.label}</strong><br><span class="muted">${card.help}</span></a>`;
  })}</div>`;
}

/** The counts: the live part of the overview. */
export async function overviewCounts(context: ConsoleContext, window: string, stalled: string): Promise<Html> {
  const groups = cards(window, stalled, context.now());
  const [person, working, ended] = await Promise.all([cardGrid(context, groups.person, true), cardGrid(context, groups.working, false), cardGrid(context, groups.ended, false)]);
  return h`<h2>Needs a person</h2>${person}<h2>At work</h2>${working}<h2>Ended within ${window}</h2>${ended}`;
}

/** Reads `window` and `stalled` from the query string, naming a bad one. */
export function parseOverviewQuery(params: Record<string, string | undefined>): { window: string; stalled: string; problems: string[] } {
  const window = params.window?.trim() || DEFAULT_WINDOW;
  const stalled = params.stalled?.trim() || DEFAULT_STALLED;
  const problems = [durationProblem('window', window), durationProblem('stalled', stalled)].filter((p): p is string => p !== undefined);
  return { window, stalled, problems };
}

/** The overview page's content. */
export async function overviewBody(context: ConsoleContext, window: string, stalled: string): Promise<Html> {
  const choice = (w: string) => h`<option value="${w}"${w === window ? h` selected` : ''}>${w}</option>`;
  const offered = (WINDOWS as readonly string[]).includes(window) ? WINDOWS : [...WINDOWS, window];
  const fragment = `/?${new URLSearchParams({ window, stalled, fragment: '1' })}`;
  return h`<h1>Overview</h1>
<form class="filters" method="get" action="/" aria-label="Window">
<div><label for="window">Ended within</label><select id="window" name="window">${offered.map(choice)}</select></div>
<div><label for="stalled">Stalled after</label><input id="stalled" name="stalled" value="${stalled}" size="6"></div>
<div><button type="submit" class="primary">Show</button></div></form>
${liveRegion('overview', fragment, await overviewCounts(context, window, stalled), 5_000)}`;
}
