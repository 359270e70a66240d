/**
 * The CLI built in a copy of the checkout: its sources, configs and bin/ — as they are in the
 * working tree, or at a commit — copied to a temporary folder with the same node_modules, then
 * `npm run build` there. The test of the build and the CLI bench run that copy's
 * `bin/unwind.js`, so that other work in the checkout — an edit that makes its dist/ stale, a
 * rebuild under running processes — never changes what they run.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A built copy of the checkout; `remove()` deletes it. */
export interface BuiltCli {
  root: string;
  /** Its `bin/unwind.js`. */
  bin: string;
  remove(): void;
}

const repo = join(__dirname, '..', '..');

const COPIED = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin'];

/**
 * Copies the checkout and builds it.
 * @param commit copy the files at this commit (e.g. `HEAD`) instead of the working tree's
 * @throws with tsc's report when the build fails
 */
export async function buildCliCopy(commit?: string): Promise<BuiltCli> {
  const root = mkdtempSync(join(tmpdir(), 'unwind-cli-build-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  const run = promisify(execFile);
  try {
    if (commit) {
      await run('git', ['archive', '--output', join(root, 'copy.tar'), commit, '--', ...COPIED], { cwd: repo });
      await run('tar', ['-xf', 'copy.tar'], { cwd: root });
    } else {
      for (const path of COPIED) cpSync(join(repo, path), join(root, path), { recursive: true });
    }
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
    await run('npm', ['run', '-s', 'build'], { cwd: root });
  } catch (error) {
    remove();
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed in a copy of the checkout (fix what it reports): ${(error as Error).message}\n${stdout}${stderr}`, { cause: error });
  }
  return { root, bin: join(root, 'bin', 'unwind.js'), remove };
}
