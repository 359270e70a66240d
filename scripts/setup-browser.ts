/**
 * `npm run setup:browser`: finds the Chromium the console's browser tests drive (through
 * playwright-core, which brings no browser of its own), and installs Debian's `chromium` where
 * it is missing. A second run finds it and returns at once.
 *
 * Found in this order: `UNWIND_CHROMIUM` (an existing binary; never installed over), then
 * /usr/bin/chromium; else `apt-get update && apt-get install -y chromium` (as root). When that
 * cannot run, it fails saying which command to run.
 */
import { spawnSync } from 'node:child_process';
import { chromiumPath, DEBIAN_CHROMIUM } from '../src/console/browser';

const INSTALL = 'apt-get update && apt-get install -y chromium';

function main(): void {
  const started = Date.now();
  const found = chromiumPath();
  if (found.path) {
    console.log(`chromium: ${found.path} (${found.source})`);
    return;
  }
  if (found.source === 'UNWIND_CHROMIUM') {
    throw new Error(`UNWIND_CHROMIUM is ${process.env.UNWIND_CHROMIUM}, which is not an executable file: point it at a Chromium binary, or unset it to use ${DEBIAN_CHROMIUM}`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`chromium is not installed (${DEBIAN_CHROMIUM} is missing) and installing it needs root: run \`sudo sh -c '${INSTALL}'\`, or set UNWIND_CHROMIUM to a Chromium binary`);
  }
  console.log(`chromium is missing; installing it: ${INSTALL}`);
  const run = spawnSync('sh', ['-c', INSTALL], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const after = chromiumPath();
  if (run.status !== 0 || !after.path) {
    throw new Error(`\`${INSTALL}\` failed (exit ${run.status ?? run.signal}): run it by hand and read its output, or set UNWIND_CHROMIUM to a Chromium binary`);
  }
  console.log(`chromium: ${after.path} (installed in ${((Date.now() - started) / 1000).toFixed(0)}s)`);
}

try {
  main();
} catch (err) {
  console.error(`setup:browser: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
