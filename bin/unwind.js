#!/usr/bin/env node
/* global process, __dirname */
// The `unwind` operator CLI. It runs the compiled JavaScript (dist/src/cli/main.js, made by
// `npm run build`, which `npm ci` and `npm test` run): running the TypeScript through tsx costs
// about 0.7 s of CPU at every call.
//
// In a checkout the build can lag behind the sources: a developer edits src/ and runs the CLI,
// or a test spawns it. Running dist/ then would run yesterday's code without a word, so the
// build is checked first: when a source file the CLI may load (the build lists them in
// dist/src/cli/cli-index.json) changed — its ctime: edits, renames, checkouts — after the last
// successful build began (the mtime of dist/build-stamp, which `npm run build` writes only once
// everything compiled), the sources run through tsx instead: the code as it is now, only slower.
// A terminal is told so; scripts and tests get the same output either way. An edit elsewhere
// (the rack server, the console) leaves the CLI fast. The check stats about 70 files: a
// millisecond or two, against half a second saved. Without tsx (dependencies installed with
// --omit=dev) a stale or missing build is an error.
//
// UNWIND_CLI_FROM_SOURCE=1 always runs the sources. UNWIND_DEBUG=1 says which code runs, and why.
const { existsSync, readFileSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const index = join(root, 'dist', 'src', 'cli', 'cli-index.json');
const stamp = join(root, 'dist', 'build-stamp');

/** ctime of `file` (ms), Infinity when it is gone (its importer changed too, or it was renamed). */
function changedAt(file) {
  try {
    return statSync(file).ctimeMs;
  } catch {
    return Infinity;
  }
}

/** Why the build cannot run as is (undefined when it can). */
function whyNotBuilt() {
  if (process.env.UNWIND_CLI_FROM_SOURCE === '1') return 'UNWIND_CLI_FROM_SOURCE=1';
  if (!existsSync(stamp) || !existsSync(built) || !existsSync(index)) return 'unwind is not built (or its last build failed)';
  // An installed copy without its sources has nothing to be stale against.
  if (!existsSync(join(root, 'src'))) return undefined;
  const since = statSync(stamp).mtimeMs;
  const changed = JSON.parse(readFileSync(index, 'utf8')).sources.find((source) => changedAt(join(root, source)) > since);
  return changed && `${changed} changed since the last build`;
}

function hasTsx() {
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

const reason = whyNotBuilt();
if (reason === undefined) {
  if (process.env.UNWIND_DEBUG === '1') process.stderr.write(`unwind: running the build (${relative(root, built)})\n`);
  require(built);
} else if (hasTsx()) {
  if (process.env.UNWIND_DEBUG === '1' || (process.stderr.isTTY && !reason.startsWith('UNWIND_'))) {
    process.stderr.write(`unwind: ${reason}: running the sources through tsx (slower); 'npm run build' makes it fast again\n`);
  }
  require('tsx/cjs');
  require('../src/cli/main.ts');
} else {
  process.stderr.write(`unwind: ${reason}, and tsx (a dev dependency) is not installed to run the sources; run 'npm ci && npm run build'\n`);
  process.exitCode = 1;
}
