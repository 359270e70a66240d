/**
 * `npm run setup:temporal`: obtains both Temporal servers unwind runs on, once.
 * A second run finds them in the cache and returns at once.
 */
import { ensureDevServer, ensureTestServer, ServerUnavailableError, type ServerExecutable } from '../src/temporal/servers';

function describe(name: string, executable: ServerExecutable): string {
  return executable.type === 'existing-path'
    ? `${name}: ${executable.path} (${executable.source})`
    : `${name}: no binary or toolchain here; the Temporal SDK will download it at first use (needs internet access)`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const dev = await ensureDevServer({ allowDownload: true });
  const test = await ensureTestServer({ allowDownload: true });
  console.log(describe('dev server', dev));
  console.log(describe('time-skipping test server', test));
  console.log(`Temporal servers ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ServerUnavailableError ? err.message : err);
  process.exit(1);
});
