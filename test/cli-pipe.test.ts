/**
 * `unwind … | head`: a reader that closes the pipe early ends the CLI quietly with its own exit
 * code, not with an unhandled EPIPE and its stack trace. The race between the CLI's writes and
 * the reader's exit is run several times, so a CLI that mishandles it fails nearly every run.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = join(__dirname, '..');

it('ends quietly with exit code 0 when the reader of its output goes away', async () => {
  const pipeline = 'for i in 1 2 3 4 5 6 7 8; do node bin/unwind.js rack --help | head -c 1 >/dev/null; echo -n "${PIPESTATUS[0]} "; done';
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', pipeline], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  expect(stderr).toBe('');
  expect(stdout.trim().split(' ')).toEqual(Array(8).fill('0'));
}, 120_000);
