/**
 * Who may open the console, through Hono's `app.request()` (no server, no browser): loopback
 * only without a token; with one, every request needs it, as a bearer header or the cookie the
 * login form sets; forms must come from the console's own pages. The routes behind the check
 * are never reached here, so the client is a stub that fails if anything touches it.
 */
import { describe, expect, it } from 'vitest';
import type { UnwindClient } from '../src/client';
import { createConsoleApp } from '../src/console/app';
import { ConsoleConfigError, TOKEN_COOKIE, checkBinding, isLoopback } from '../src/console/auth';
import type { ConsoleContext } from '../src/console/context';
import { startConsole } from '../src/console/server';

const TOKEN = 'correct-horse-battery-staple';
const untouchable = new Proxy({} as UnwindClient, {
  get: (_target, name) => {
    throw new Error(`the auth check let a request reach the client (${String(name)})`);
  },
});
const context: ConsoleContext = { client: untouchable, rack: null, temporalUi: null, namespace: 'default', now: () => new Date() };
const withToken = createConsoleApp(context, { token: TOKEN });
// A path past the check that needs no client: 404 means "let through".
const PAST_THE_CHECK = '/no-such-page';

describe('where the console may listen', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', 'console.example', '127.0.0.1.example']) expect(isLoopback(host), host).toBe(false);
  });

  it('refuses a host beyond loopback without a token, naming the variable to set', () => {
    expect(() => checkBinding('0.0.0.0', undefined)).toThrow(ConsoleConfigError);
    expect(() => checkBinding('0.0.0.0', undefined)).toThrow(/--host 0\.0\.0\.0 .*set UNWIND_CONSOLE_TOKEN/);
    expect(() => checkBinding('0.0.0.0', TOKEN)).not.toThrow();
    expect(() => checkBinding('127.0.0.1', undefined)).not.toThrow();
  });

  it('refuses a token too short to resist guessing', () => {
    expect(() => checkBinding('127.0.0.1', 'secret')).toThrow(/UNWIND_CONSOLE_TOKEN is 6 characters: use at least 16/);
  });

  it('does not listen at all when refused', async () => {
    await expect(startConsole(context, { host: '0.0.0.0', port: 0 })).rejects.toThrow(ConsoleConfigError);
  });
});

describe('with an access token', () => {
  it('sends a browser without it to the login form, and anything else gets 401', async () => {
    const page = await withToken.request('/sagas?state=stuck', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/login?${new URLSearchParams({ next: '/sagas?state=stuck' })}`);
    const api = await withToken.request('/saga?id=x&fragment=1');
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toContain('Bearer');
    expect(await api.text()).toContain('needs its access token');
    const post = await withToken.request('/saga/act', { method: 'POST' });
    expect(post.status).toBe(401);
  });

  it('lets a bearer token through, and refuses a wrong one', async () => {
    expect((await withToken.request(PAST_THE_CHECK, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await withToken.request(PAST_THE_CHECK, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
  });

  it('logs a browser in with the form: an HttpOnly same-site cookie, then back where it was going', async () => {
    const form = (token: string) => new URLSearchParams({ token, next: '/sagas' });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' };
    const wrong = await withToken.request('/login', { method: 'POST', body: form('nope'), headers });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("not the console's access token");

    const right = await withToken.request('/login', { method: 'POST', body: form(TOKEN), headers });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/sagas');
    const cookie = right.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0]!;
    expect((await withToken.request(PAST_THE_CHECK, { headers: { cookie: pair } })).status).toBe(404);
    expect((await withToken.request(PAST_THE_CHECK, { headers: { cookie: `${TOKEN_COOKIE}=guess` } })).status).toBe(401);
  });

  it('never sends a login elsewhere', async () => {
    const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' };
    const away = await withToken.request('/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN, next: '//evil.example/' }), headers });
    expect(away.headers.get('location')).toBe('/');
  });
});

describe('without a token (loopback)', () => {
  const open = createConsoleApp(context);

  it('needs no login', async () => {
    expect((await open.request(PAST_THE_CHECK)).status).toBe(404);
    expect((await open.request('/login')).status).toBe(404);
    expect(await (await open.request('/health')).text()).toBe('ok');
  });

  it('refuses a form posted from another site', async () => {
    const response = await open.request('http://127.0.0.1:8234/saga/act', {
      method: 'POST',
      body: new URLSearchParams({ id: 'x', action: 'retry' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    });
    expect(response.status).toBe(403);
  });

  it('names a bad action request field by field, before reaching any saga', async () => {
    const response = await open.request('/saga/act?id=x&action=explode&waitId=0');
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('action: expected one of retry, skip, unwind, approve, reject, hardwareReplaced (got &#39;explode&#39;)');
    expect(text).toContain('waitId: expected a wait number, a whole number from 1 (got &#39;0&#39;)');
  });
});
