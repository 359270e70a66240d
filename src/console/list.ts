/**
 * The saga list: `unwind list`'s columns and filters (state, saga type, stalled for) plus text in
 * the id, newest first, in pages of 50, kept fresh without a reload (the table is a live region
 * re-rendered by the server).
 *
 * Visibility cannot search inside ids, so with id text the console reads up to 10,000 matching
 * rows and keeps those whose id holds the text; pages are cut from the rows read (page n reads
 * n × 50 + 1 rows), as `unwind list --limit` would.
 */
import { InvalidRequestError, type SagaListFilter, type SagaSummary } from '../client';
import { formatDuration, parseDuration } from '../cli/format';
import { SagaState } from '../schemas/saga';
import type { ConsoleContext } from './context';
import { type Html, h } from './html';
import { liveRegion } from './layout';
import { ago, sagaBadge } from './widgets';
import { sagaPagePath } from './saga-page';

/** Rows per page. */
export const PAGE_SIZE = 50;
/** The most rows one request reads (the client's own cap). */
const MAX_ROWS = 10_000;
/** How often the table refreshes; with id text every row is read (seconds at 10,000 sagas), so less often. */
const LIST_POLL_MS = 3_000;
const ID_TEXT_POLL_MS = 15_000;

/** The list's query, as the page's form and links write it. */
export interface ListQuery {
  state?: SagaState;
  saga?: string;
  /** Stalled for at least this long, as typed (`10m`). */
  stalled?: string;
  /** Last changed within this long, as typed (`24h`): the overview's window. */
  within?: string;
  /** Text the id must contain. */
  q?: string;
  page: number;
}

/** Reads the query string; every bad field is named with what was expected. */
export function parseListQuery(params: Record<string, string | undefined>): { query: ListQuery; problems: string[] } {
  const problems: string[] = [];
  const query: ListQuery = { page: 1 };
  const text = (name: string) => params[name]?.trim() || undefined;
  const state = text('state');
  if (state !== undefined) {
    const parsed = SagaState.safeParse(state);
    if (parsed.success) query.state = parsed.data;
    else problems.push(`state: expected one of ${SagaState.options.join(', ')} (got '${state}')`);
  }
  query.saga = text('saga');
  query.q = text('q');
  for (const name of ['stalled', 'within'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const problem = durationProblem(name, value);
    if (problem) problems.push(problem);
    else query[name] = value;
  }
  const pageText = text('page');
  if (pageText !== undefined) {
    const n = Number(pageText);
    if (!/^\d+$/.test(pageText) || n < 1 || n * PAGE_SIZE > MAX_ROWS) problems.push(`page: expected a whole number from 1 to ${MAX_ROWS / PAGE_SIZE} (got '${pageText}')`);
    else query.page = n;
  }
  return { query, problems };
}

/** Why `value` is not a duration for the field `name`, or `undefined` when it is one. */
export function durationProblem(name: string, value: string): string | undefined {
  try {
    if (parseDuration(value, name) > 0) return undefined;
  } catch {
    // Said below, with the field's name.
  }
  return `${name}: expected a duration longer than zero such as 10m, 2h or 1d (got '${value}')`;
}

/** The query string of `query` (page 1 and empty fields left out). */
export function listQueryString(query: ListQuery, extra: Record<string, string> = {}): string {
  const entries = Object.entries({ state: query.state, saga: query.saga, stalled: query.stalled, within: query.within, q: query.q, page: query.page > 1 ? String(query.page) : undefined, ...extra });
  const search = new URLSearchParams(entries.filter((e): e is [string, string] => e[1] !== undefined));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** One page of sagas, and whether another follows. */
export async function listPage(context: ConsoleContext, query: ListQuery): Promise<{ rows: SagaSummary[]; more: boolean }> {
  const filter: SagaListFilter = {
    ...(query.state && { state: query.state }),
    ...(query.saga && { saga: query.saga }),
    ...(query.stalled && { stalledFor: parseDuration(query.stalled, 'stalled') }),
    ...(query.within && { changedSince: new Date(context.now().getTime() - parseDuration(query.within, 'within')) }),
  };
  const start = (query.page - 1) * PAGE_SIZE;
  const wanted = Math.min(MAX_ROWS, start + PAGE_SIZE + 1);
  let rows = await context.client.sagas.list({ ...filter, limit: query.q ? MAX_ROWS : wanted });
  if (query.q) rows = rows.filter((r) => r.workflowId.includes(query.q!));
  return { rows: rows.slice(start, start + PAGE_SIZE), more: rows.length > start + PAGE_SIZE };
}

/** The table and the pager: the live part of the list. */
export function listTable(context: ConsoleContext, query: ListQuery, result: { rows: SagaSummary[]; more: boolean }): Html {
  const now = context.now();
  const pager = h`<nav class="pager" aria-label="Pages">
${query.page > 1 ? h`<a href="/sagas${listQueryString({ ...query, page: query.page - 1 })}" rel="prev">← Newer</a>` : ''}
<span>Page ${query.page}</span>
${result.more ? h`<a href="/sagas${listQueryString({ ...query, page: query.page + 1 })}" rel="next">Older →</a>` : ''}</nav>`;
  if (result.rows.length === 0) return h`<p class="muted">No sagas${query.page > 1 ? ' on this page' : ' match'}.</p>${query.page > 1 ? pager : ''}`;
  const body = result.rows.map((r) => {
    const odd = r.status !== 'running' && r.status !== 'completed' && r.status !== 'failed' ? h` <span class="muted">(${r.status})</span>` : '';
    return h`<tr data-id="${r.workflowId}"><td><a href="${sagaPagePath(r.workflowId)}">${r.workflowId}</a></td><td>${r.saga}</td><td data-state="${r.state ?? ''}">${sagaBadge(r.state)}${odd}</td>
<td>${r.step ?? ''}</td><td>${ago(r.startTime, now)}</td><td>${ago(r.progressAt, now)}</td></tr>`;
  });
  return h`<table aria-label="Sagas, newest first"><thead><tr><th scope="col">ID</th><th scope="col">Saga</th><th scope="col">State</th><th scope="col">Step</th><th scope="col">Started</th><th scope="col">Last progress</th></tr></thead>
<tbody>${body}</tbody></table>${pager}`;
}

function filterForm(query: ListQuery): Html {
  const option = (value: string, label: string) => h`<option value="${value}"${query.state === value || (!query.state && !value) ? h` selected` : ''}>${label}</option>`;
  return h`<form class="filters" method="get" action="/sagas" role="search" aria-label="Filter sagas">
<div><label for="state">State</label><select id="state" name="state">${option('', 'any')}${SagaState.options.map((s) => option(s, s))}</select></div>
<div><label for="saga">Saga type</label><input id="saga" name="saga" value="${query.saga ?? ''}" placeholder="e.g. instanceCreate" size="16"></div>
<div><label for="stalled">Stalled for at least</label><input id="stalled" name="stalled" value="${query.stalled ?? ''}" placeholder="e.g. 10m" size="8" title="running sagas with no progress for this long"></div>
<div><label for="within">Changed within</label><input id="within" name="within" value="${query.within ?? ''}" placeholder="e.g. 24h" size="8"></div>
<div><label for="q">Id contains</label><input id="q" name="q" value="${query.q ?? ''}" placeholder="e.g. web-1" size="20"></div>
<div><button type="submit" class="primary">Filter</button> <a class="button" href="/sagas">Clear</a></div></form>`;
}

/** The list page's content, or the problems with its query. */
export async function listPageBody(context: ConsoleContext, params: Record<string, string | undefined>): Promise<{ body: Html; fragment: Html; status: 200 | 400 }> {
  const { query, problems } = parseListQuery(params);
  const problemBox = (list: readonly string[]) => h`<div class="error-box" role="alert"><p>Nothing listed: fix the fields named.</p><ul>${list.map((p) => h`<li>${p}</li>`)}</ul></div>`;
  if (problems.length) return { body: h`<h1>Sagas</h1>${filterForm(query)}${problemBox(problems)}`, fragment: problemBox(problems), status: 400 };
  try {
    const table = listTable(context, query, await listPage(context, query));
    const described = [query.state && `state ${query.state}`, query.saga && `type ${query.saga}`, query.stalled && `stalled ${formatDuration(parseDuration(query.stalled, 'stalled'))}`, query.within && `changed within ${query.within}`, query.q && `id containing "${query.q}"`].filter(Boolean);
    return {
      body: h`<h1>Sagas${described.length ? h` <span class="muted">(${described.join(', ')})</span>` : ''}</h1>${filterForm(query)}${liveRegion('saga-list', `/sagas${listQueryString(query, { fragment: '1' })}`, table, query.q ? ID_TEXT_POLL_MS : LIST_POLL_MS)}`,
      fragment: table,
      status: 200,
    };
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    const list = error.problems.map((p) => `${p.field}: ${p.message}`);
    return { body: h`<h1>Sagas</h1>${filterForm(query)}${problemBox(list)}`, fragment: problemBox(list), status: 400 };
  }
}
