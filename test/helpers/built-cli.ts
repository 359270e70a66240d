/**
 * The CLI built in a copy of the checkout: its sources, configs and bin/ copied to a temporary
 * folder with the same node_modules, then `npm run build` there. The test of the build and the
 * CLI bench run that copy's `bin/unwind.js`, so that other work in the checkout — an edit that
 * makes its dist/ stale, a rebuild under running processes — never changes what they run.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
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

/** Copies the checkout and builds it. @throws with tsc's report when the build fails */
export async function buildCliCopy(): Promise<BuiltCli> {
  const root = mkdtempSync(join(tmpdir(), 'unwind-cli-build-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) copyFileSync(join(repo, file), join(root, file));
    for (const dir of ['src', 'bin']) cpSync(join(repo, dir), join(root, dir), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
    await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: root });
  } catch (error) {
    remove();
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed in a copy of the checkout (fix what it reports): ${(error as Error).message}\n${stdout}${stderr}`, { cause: error });
  }
  return { root, bin: join(root, 'bin', 'unwind.js'), remove };
}
