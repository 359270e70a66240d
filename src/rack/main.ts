/**
 * Runs the simulated rack as its own process, logging one JSON line per request to stdout.
 *
 * Environment: `UNWIND_RACK_DB` (default `.unwind/rack.sqlite`), `UNWIND_RACK_PORT` (default
 * 7280), `UNWIND_RACK_HOST` (default 127.0.0.1), `UNWIND_LOG_LEVEL` (default info; debug adds
 * request and response bodies). Stops cleanly on SIGINT/SIGTERM.
 */
import { type Logger, createLogger } from '../logging';
import { startRackServer } from './server';

async function main(log: Logger): Promise<void> {
  const dbPath = process.env.UNWIND_RACK_DB ?? '.unwind/rack.sqlite';
  const portText = process.env.UNWIND_RACK_PORT ?? '7280';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`UNWIND_RACK_PORT=${portText} is not a TCP port: set it to a number from 0 to 65535`);
  }
  const server = await startRackServer({ dbPath, port, host: process.env.UNWIND_RACK_HOST ?? '127.0.0.1', logger: log });
  log.info({ url: server.url, db: dbPath }, `unwind rack listening on ${server.url} (state in ${dbPath})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal} received, stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

let log: Logger;
try {
  log = createLogger('rack');
} catch (error) {
  // No logger without a valid level: say so plainly.
  console.error(`unwind rack: ${(error as Error).message}`);
  process.exit(1);
}
main(log).catch((error: unknown) => {
  log.fatal({ err: error }, `failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
