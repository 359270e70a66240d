/**
 * The action routes: `GET /saga/act` shows an action's form (who, why) with what will happen;
 * `POST /saga/act` sends it through the client and shows the saga's answer — the decision as
 * recorded, or its refusal in the words `unwind` prints (HTTP 409). Nothing changes on the page
 * until the saga has answered: there is no optimistic state.
 */
import type { Context, Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { InvalidRequestError, OperatorActionRefusedError, type SagaAction } from '../client';
import { WaitId } from '../schemas/saga';
import { ACTIONS, type ActionSpec, type ActionTarget, isSagaAction } from './action-specs';
import type { ConsoleContext } from './context';
import { type Html, h } from './html';
import { page } from './layout';
import { loadSaga } from './saga-data';
import { sagaPagePath } from './saga-page';

/** The cookie that remembers the name a person gave last, to fill in the next form. */
const PERSON_COOKIE = 'unwind_person';

/** A request's action and target, or the problems with them (each naming its field). */
function parseTarget(params: Record<string, string | undefined>): { id: string; action: SagaAction; target: ActionTarget } | { problems: string[] } {
  const problems: string[] = [];
  const id = params.id?.trim() ?? '';
  if (!id) problems.push('id: expected the saga (workflow) id');
  const action = params.action ?? '';
  if (!isSagaAction(action)) problems.push(`action: expected one of ${Object.keys(ACTIONS).join(', ')} (got '${action}')`);
  const target: ActionTarget = {};
  if (params.step) target.step = params.step;
  if (params.waitId) {
    const waitId = WaitId.safeParse(Number(params.waitId));
    if (!/^\d+$/.test(params.waitId) || !waitId.success) problems.push(`waitId: expected a wait number, a whole number from 1 (got '${params.waitId}')`);
    else target.waitId = waitId.data;
  }
  return problems.length || !isSagaAction(action) ? { problems } : { id, action, target };
}

function badRequest(c: Context, context: ConsoleContext, problems: readonly string[]): Response {
  const body = h`<h1>Bad request</h1><div class="error-box" role="alert"><ul>${problems.map((p) => h`<li>${p}</li>`)}</ul></div><p><a href="/sagas">Back to the sagas</a></p>`;
  return c.html(page('Bad request', body, { temporalUi: context.temporalUi }).value, 400);
}

/** The form: what will happen, who decides, why; errors beside the fields they concern. */
function actionForm(spec: ActionSpec, id: string, target: ActionTarget, explain: string, values: Record<string, string>, problems: Record<string, string> = {}): Html {
  const fields = spec.fields.map((f) => {
    const problem = problems[f.name];
    const hintId = `${f.name}-hint`;
    const attrs = h`id="${f.name}" name="${f.name}" aria-describedby="${hintId}"${f.required ? h` required aria-required="true"` : ''}${problem ? h` aria-invalid="true"` : ''}`;
    const input = f.multiline ? h`<textarea ${attrs}>${values[f.name] ?? ''}</textarea>` : h`<input type="text" ${attrs} value="${values[f.name] ?? ''}" autocomplete="off">`;
    return h`<div class="field"><label for="${f.name}">${f.label}${f.required ? '' : ' (optional)'}</label>${input}
<div class="hint" id="${hintId}">${problem ? h`<strong class="badge red">${problem}</strong> ` : ''}${f.hint}</div></div>`;
  });
  const hidden = [
    h`<input type="hidden" name="id" value="${id}"><input type="hidden" name="action" value="${spec.action}">`,
    target.step ? h`<input type="hidden" name="step" value="${target.step}">` : '',
    target.waitId ? h`<input type="hidden" name="waitId" value="${target.waitId}">` : '',
  ];
  return h`<h1>${spec.title}: <span class="muted">${id}</span></h1>
<section class="act approval" aria-labelledby="what-happens"><h2 id="what-happens" style="margin-top:0">What will happen</h2><p>${explain}</p></section>
${Object.keys(problems).length ? h`<div class="error-box" role="alert">Nothing was sent: ${Object.entries(problems).map(([field, p]) => `${field}: ${p}`).join('; ')}</div>` : ''}
<form method="post" action="/saga/act">${hidden}${fields}
<div class="buttons"><button type="submit" class="primary">Confirm: ${spec.submit}</button><a class="button" href="${sagaPagePath(id)}">Cancel</a></div></form>`;
}

async function explanation(context: ConsoleContext, spec: ActionSpec, id: string, target: ActionTarget): Promise<string> {
  const view = await loadSaga(context.client, id).catch(() => null);
  return spec.explain(view, target);
}

/** Registers `GET /saga/act` and `POST /saga/act` on `app`. */
export function registerActions(app: Hono, context: ConsoleContext): void {
  app.get('/saga/act', async (c) => {
    const parsed = parseTarget(c.req.query());
    if ('problems' in parsed) return badRequest(c, context, parsed.problems);
    const spec = ACTIONS[parsed.action];
    const person = getCookie(c, PERSON_COOKIE) ?? '';
    const values = Object.fromEntries(spec.fields.filter((f) => f.person).map((f) => [f.name, person]));
    const form = actionForm(spec, parsed.id, parsed.target, await explanation(context, spec, parsed.id, parsed.target), values);
    return c.html(page(spec.title, form, { section: '/sagas', temporalUi: context.temporalUi }).value);
  });

  app.post('/saga/act', async (c) => {
    const form = Object.fromEntries(Object.entries(await c.req.parseBody()).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const parsed = parseTarget(form);
    if ('problems' in parsed) return badRequest(c, context, parsed.problems);
    const { id, action, target } = parsed;
    const spec = ACTIONS[action];
    const person = spec.fields.find((f) => f.person);
    if (person && form[person.name]?.trim()) {
      setCookie(c, PERSON_COOKIE, form[person.name]!.trim(), { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 30 * 86_400 });
    }
    const show = (title: string, body: Html, status: 200 | 400 | 404 | 409 | 502) =>
      c.html(page(title, body, { section: '/sagas', temporalUi: context.temporalUi }).value, status);
    const back = h`<p><a class="button primary" href="${sagaPagePath(id)}">Back to the saga</a></p>`;
    try {
      const recorded = await spec.send(context.client, id, form, target);
      return show(`${spec.title}: recorded`, h`<h1>${spec.title}: recorded</h1><div class="ok-box" role="status"><p class="recorded">${recorded}</p></div>${back}`, 200);
    } catch (error) {
      if (error instanceof InvalidRequestError) {
        const problems = Object.fromEntries(error.problems.map((p) => [p.field, p.message]));
        return show(spec.title, actionForm(spec, id, target, await explanation(context, spec, id, target), form, problems), 400);
      }
      if (error instanceof OperatorActionRefusedError) {
        return show(`${spec.title}: refused`, h`<h1>${spec.title}: refused</h1><div class="error-box" role="alert"><p class="refusal">${error.message}</p><p>Nothing was recorded.</p></div>${back}`, 409);
      }
      const message = error instanceof Error ? error.message : String(error);
      const notFound = error instanceof Error && error.name === 'WorkflowNotFoundError';
      return show(`${spec.title}: not sent`, h`<h1>${spec.title}: failed</h1><div class="error-box" role="alert"><p>${message}</p><p>The saga's answer is unknown: look at its page before trying again.</p></div>${back}`, notFound ? 404 : 502);
    }
  });
}
