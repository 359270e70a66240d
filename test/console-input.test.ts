/**
 * Bad input to the console's pages, through Hono's `app.request()`: each bad field is named with
 * what was expected (HTTP 400), and nothing is asked of the client — a stub that fails if
 * touched stands in for it. Escaping: text from a request comes back as text.
 */
import { describe, expect, it } from 'vitest';
import type { UnwindClient } from '../src/client';
import { createConsoleApp } from '../src/console/app';
import type { ConsoleContext } from '../src/console/context';
import { h, raw } from '../src/console/html';
import { listQueryString, parseListQuery } from '../src/console/list';

const untouchable = new Proxy({} as UnwindClient, {
  get: (_target, name) => {
    throw new Error(`bad input reached the client (${String(name)})`);
  },
});
const context: ConsoleContext = { client: untouchable, rack: null, temporalUi: null, namespace: 'default', now: () => new Date() };
const app = createConsoleApp(context);

async function problemsOf(path: string): Promise<string> {
  const response = await app.request(path);
  const text = await response.text();
  expect(response.status, text).toBe(400);
  return text;
}

describe('the list', () => {
  it('names every bad filter with what it expects', async () => {
    const text = await problemsOf('/sagas?state=sleeping&stalled=soon&page=0');
    expect(text).toContain('state: expected one of running, unwinding, needs-operator, stuck, awaiting-approval, completed, unwound, unwound-with-residue, cancelled, failed (got &#39;sleeping&#39;)');
    expect(text).toContain('stalled: expected a duration longer than zero such as 10m, 2h or 1d (got &#39;soon&#39;)');
    expect(text).toContain('page: expected a whole number from 1 to 200 (got &#39;0&#39;)');
    expect(await problemsOf('/sagas?within=0s&fragment=1')).toContain('within: expected a duration longer than zero');
  });

  it('keeps its filters in its links, leaving out what is empty', () => {
    const { query, problems } = parseListQuery({ state: 'stuck', saga: ' ', q: 'web-1', page: '3' });
    expect(problems).toEqual([]);
    expect(listQueryString(query)).toBe('?state=stuck&q=web-1&page=3');
    expect(listQueryString({ page: 1 })).toBe('');
  });
});

describe('the other pages', () => {
  it('names a bad window or a missing id', async () => {
    expect(await problemsOf('/?window=forever')).toContain('window: expected a duration longer than zero such as 10m, 2h or 1d (got &#39;forever&#39;)');
    expect(await problemsOf('/errors?since=-1h')).toContain('since: expected a duration');
    expect(await problemsOf('/saga')).toContain('id: expected the saga (workflow) id');
  });
});

describe('html', () => {
  it('escapes every value unless it is markup the console made', () => {
    const id = `disk-create/<script>alert("x")</script>/'r'&`;
    expect(h`<td title="${id}">${id}</td>`.value).toBe(
      '<td title="disk-create/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;/&#39;r&#39;&amp;">disk-create/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;/&#39;r&#39;&amp;</td>',
    );
    expect(h`<p>${[h`<b>${'<i>'}</b>`, raw('<br>'), null, false, 0]}</p>`.value).toBe('<p><b>&lt;i&gt;</b><br>0</p>');
  });
});
