/**
 * Serving the console over HTTP (@hono/node-server): checks where it may listen first (loopback
 * only without an access token, see auth.ts), then resolves once it listens.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createConsoleApp } from './app';
import { checkBinding } from './auth';
import type { ConsoleContext } from './context';

/** Options of {@link startConsole}. */
export interface ConsoleServerOptions {
  /** The address to listen on; 127.0.0.1 unless told. Beyond loopback, `token` is required. */
  host?: string;
  /** The port; 0 picks a free one. 8234 unless told (beside the Temporal UI's 8233). */
  port?: number;
  /** The access token (UNWIND_CONSOLE_TOKEN); every request needs it when set. */
  token?: string;
}

/** A console that listens. */
export interface RunningConsole {
  /** Its address, e.g. `http://127.0.0.1:8234`. */
  url: string;
  close(): Promise<void>;
}

/** The console's default port: beside the Temporal UI's (8233). */
export const DEFAULT_CONSOLE_PORT = 8234;

/**
 * Starts the console.
 * @throws ConsoleConfigError for a host beyond loopback without a token, or a short token,
 *   before anything listens; the socket's error (e.g. EADDRINUSE) when it cannot listen.
 */
export async function startConsole(context: ConsoleContext, options: ConsoleServerOptions = {}): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  checkBinding(host, options.token);
  const app = createConsoleApp(context, { token: options.token });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? DEFAULT_CONSOLE_PORT }, (info: AddressInfo) => {
      server.off('error', reject);
      const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shown}:${info.port}`,
        close: () => new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done()))),
      });
    });
    server.once('error', reject);
  });
}
