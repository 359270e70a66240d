/**
 * Entry point of the `unwind` operator CLI (run by `bin/unwind.js` through tsx).
 *
 * Sets `process.exitCode` rather than calling `process.exit`, so piped stdout is flushed
 * completely before the process ends.
 */
import { runCli } from './program';

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli handles every error; reaching this is a bug in the CLI itself.
    process.stderr.write(`unwind: internal error: ${error instanceof Error ? error.message : String(error)}; please report it\n`);
    process.exitCode = 1;
  },
);
