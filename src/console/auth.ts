/**
 * Who may open the console. By default it listens on 127.0.0.1 only: whoever can reach it is
 * on this machine. Any other host is refused unless an access token is set
 * (`UNWIND_CONSOLE_TOKEN`); with a token, every request needs it — a browser gives it once in a
 * small login form and keeps it as an HttpOnly, same-site cookie, a script sends it as
 * `Authorization: Bearer <token>`. Forms are also checked for a same-origin post, so a page
 * elsewhere cannot make a signed-in browser act on a saga.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { h } from './html';
import { page } from './layout';

/** The cookie that carries the token in a browser. */
export const TOKEN_COOKIE = 'unwind_console_token';
/** The shortest token accepted: long enough not to be guessed over the network. */
export const MIN_TOKEN_LENGTH = 16;

/** The console's settings could not be used: the message names the setting and what to do. */
export class ConsoleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleConfigError';
  }
}

/** True for an address only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Checks where the console may listen with the token it has.
 * @throws ConsoleConfigError for a token too short, or a host beyond loopback without a token.
 */
export function checkBinding(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new ConsoleConfigError(`UNWIND_CONSOLE_TOKEN is ${token.length} characters: use at least ${MIN_TOKEN_LENGTH}, e.g. the output of \`openssl rand -hex 24\``);
  }
  if (!isLoopback(host) && token === undefined) {
    throw new ConsoleConfigError(
      `--host ${host} opens the console beyond this machine, and anyone reaching it could act on sagas: ` +
        `set UNWIND_CONSOLE_TOKEN to an access token (${MIN_TOKEN_LENGTH}+ characters) first, or leave --host at 127.0.0.1`,
    );
  }
}

/** Compares in constant time (hashes first: equal lengths whatever was sent). */
function sameToken(given: string, token: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** A `next` path to return to after logging in: a path on this console, nothing else. */
function safeNext(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function loginPage(next: string, failed: boolean) {
  return page(
    'Log in',
    h`<h1>Log in</h1>
${failed ? h`<div class="error-box" role="alert">That is not the console's access token.</div>` : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${next}">
<div class="field"><label for="token">Access token</label><input type="password" id="token" name="token" required autocomplete="current-password" aria-describedby="token-hint">
<div class="hint" id="token-hint">The value of UNWIND_CONSOLE_TOKEN where the console runs.</div></div>
<button type="submit" class="primary">Log in</button></form>`,
  );
}

/**
 * Registers the login routes and, when `token` is set, the check every other request passes:
 * the bearer header or the cookie. A browser asking for a page without it is sent to the login
 * form; anything else gets 401.
 */
export function registerAuth(app: Hono, token: string | undefined): void {
  if (token === undefined) return;
  app.get('/login', (c) => c.html(loginPage(safeNext(c.req.query('next')), false).value));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    if (typeof form.token !== 'string' || !sameToken(form.token, token)) return c.html(loginPage(next, true).value, 401);
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: new URL(c.req.url).protocol === 'https:' });
    return c.redirect(next, 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, TOKEN_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
  const check: MiddlewareHandler = async (c, next) => {
    if (c.req.path === '/login') return next();
    const bearer = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const given = bearer ?? getCookie(c, TOKEN_COOKIE);
    if (given !== undefined && sameToken(given, token)) return next();
    if (c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html') && c.req.query('fragment') === undefined) {
      return c.redirect(`/login?${new URLSearchParams({ next: c.req.path + (new URL(c.req.url).search || '') })}`, 303);
    }
    return c.text('unwind console: this console needs its access token: log in at /login, or send Authorization: Bearer <token>', 401, {
      'WWW-Authenticate': 'Bearer realm="unwind console"',
    });
  };
  app.use('*', check);
}
