/**
 * The console's routes on Hono (the project's HTTP framework). Every page is HTML rendered
 * here from the typed client; `?fragment=1` answers a page's live region alone, which the
 * page's script fetches to stay fresh.
 *
 *   GET  /                     overview: counts by state (`window`, `stalled`)
 *   GET  /sagas                the list (`state`, `saga`, `stalled`, `within`, `q`, `page`)
 *   GET  /saga?id=<id>         one saga
 *   GET  /saga/act?id&action…  an action's form; POST /saga/act sends it
 *   GET  /errors               grouped failures (`since`)
 *   GET  /firmware             targets and rollouts
 *   GET  /health               `ok`, for scripts waiting on the console
 *   GET|POST /login, POST /logout   only with an access token (see auth.ts)
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { type Context, Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { registerActions } from './actions';
import { registerAuth } from './auth';
import type { ConsoleContext } from './context';
import { errorsBody } from './errors-page';
import { firmwareBody } from './firmware-page';
import { type Html, h } from './html';
import { page, type PageOptions } from './layout';
import { listPageBody } from './list';
import { overviewBody, overviewCounts, parseOverviewQuery } from './overview';
import { loadSaga } from './saga-data';
import { sagaBody, sagaPage } from './saga-page';

/** Options of {@link createConsoleApp}. */
export interface ConsoleAppOptions {
  /** The access token every request must carry; none unless told (then bind to loopback only). */
  token?: string;
}

const isFragment = (c: Context) => c.req.query('fragment') !== undefined;

/** The console as a Hono app: serve it with @hono/node-server, or call `app.request()` in tests. */
export function createConsoleApp(context: ConsoleContext, options: ConsoleAppOptions = {}): Hono {
  const app = new Hono();
  const show = (c: Context, title: string, body: Html, section?: PageOptions['section'], status: 200 | 400 | 404 = 200) =>
    c.html(page(title, body, { section, temporalUi: context.temporalUi }).value, status);
  const problems = (list: readonly string[]) => h`<div class="error-box" role="alert"><ul>${list.map((p) => h`<li>${p}</li>`)}</ul></div>`;

  app.get('/health', (c) => c.text('ok'));
  registerAuth(app, options.token);
  app.use('*', csrf());

  app.get('/', async (c) => {
    const { window, stalled, problems: bad } = parseOverviewQuery(c.req.query());
    if (bad.length) return isFragment(c) ? c.html(problems(bad).value, 400) : show(c, 'Overview', h`<h1>Overview</h1>${problems(bad)}`, '/', 400);
    if (isFragment(c)) return c.html((await overviewCounts(context, window, stalled)).value);
    return show(c, 'Overview', await overviewBody(context, window, stalled), '/');
  });

  app.get('/sagas', async (c) => {
    const result = await listPageBody(context, c.req.query());
    return isFragment(c) ? c.html(result.fragment.value, result.status) : show(c, 'Sagas', result.body, '/sagas', result.status);
  });

  app.get('/saga', async (c) => {
    const id = c.req.query('id')?.trim();
    if (!id) return show(c, 'Saga', h`<h1>Saga</h1>${problems(['id: expected the saga (workflow) id, e.g. /saga?id=disk-create/data-1/r1'])}`, '/sagas', 400);
    try {
      const view = await loadSaga(context.client, id);
      if (isFragment(c)) return c.html((await sagaBody(context, view)).value);
      return show(c, id, await sagaPage(context, view), '/sagas');
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      return show(c, 'No such saga', h`<h1>No such saga</h1>${problems([`no saga ${id}: check the id in the list`])}<p><a href="/sagas">All sagas</a></p>`, '/sagas', 404);
    }
  });

  registerActions(app, context);

  app.get('/errors', async (c) => {
    const result = await errorsBody(context, c.req.query());
    return isFragment(c) ? c.html((await result.fragment()).value, result.status) : show(c, 'Errors', result.body, '/errors', result.status);
  });

  app.get('/firmware', async (c) => show(c, 'Firmware', await firmwareBody(context), '/firmware'));

  app.notFound((c) => show(c, 'Not found', h`<h1>Not found</h1><p>No page at ${c.req.path}. <a href="/">Overview</a></p>`, undefined, 404));

  // Temporal or the rack unreachable, a query that failed: said on the page, with what to check.
  app.onError((error, c) => {
    // Hono's own refusals (a cross-site form post: 403) keep their status.
    if (error instanceof HTTPException) return error.getResponse();
    const message = error instanceof Error ? error.message : String(error);
    const body = h`<h1>Could not read from unwind</h1><div class="error-box" role="alert"><p>${message}</p>
<p>Is the Temporal server reachable (TEMPORAL_ADDRESS), and a worker running? The page retries on reload.</p></div>`;
    return isFragment(c) ? c.html(body.value, 502) : c.html(page('Error', body, { temporalUi: context.temporalUi }).value, 502);
  });

  return app;
}
