/**
 * Runs the simulated rack as its own process.
 *
 * Environment: `UNWIND_RACK_DB` (default `.unwind/rack.sqlite`), `UNWIND_RACK_PORT` (default
 * 7280), `UNWIND_RACK_HOST` (default 127.0.0.1). Prints its URL; stops cleanly on SIGINT/SIGTERM.
 */
import { startRackServer } from './server';

async function main(): Promise<void> {
  const dbPath = process.env.UNWIND_RACK_DB ?? '.unwind/rack.sqlite';
  const portText = process.env.UNWIND_RACK_PORT ?? '7280';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`UNWIND_RACK_PORT=${portText} is not a TCP port: set it to a number from 0 to 65535`);
  }
  const server = await startRackServer({ dbPath, port, host: process.env.UNWIND_RACK_HOST ?? '127.0.0.1' });
  console.log(`unwind rack listening on ${server.url} (state in ${dbPath})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`unwind rack: ${signal} received, stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('unwind rack: failed to stop cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('unwind rack: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
