/**
 * The last step of `npm run build`: writes the compiled CLI's index beside its program
 * (dist/src/cli/cli-index.json, see {@link CliIndex}). Run as `node dist/src/cli/write-cli-index.js`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { commandIndex } from './program';
import { CLI_INDEX_FILE, type CliIndex } from './program-base';

// An index beside the sources would outlive the next edit: the sources always register every group.
if (!__filename.endsWith('.js')) {
  throw new Error('write-cli-index runs on the compiled CLI (node dist/src/cli/write-cli-index.js, as npm run build does), not on the sources');
}

/** dist/, holding src/ as compiled. */
const distRoot = resolve(__dirname, '..', '..');

/**
 * Every compiled module the CLI can load, found by following the relative `require`s of the
 * compiled code from main.js: those at the top of a module and those a command makes on use
 * (all literal), so a module loaded lazily is found too. Type-only imports are gone from the
 * compiled code, as they change nothing at run time.
 */
function cliModules(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/\brequire\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
      const target = resolve(dirname(file), specifier!);
      const found = [target, `${target}.js`, join(target, 'index.js')].find((candidate) => candidate.endsWith('.js') && existsSync(candidate));
      if (!found) throw new Error(`${relative(distRoot, file)} requires ${specifier}, which was not compiled`);
      visit(found);
    }
  };
  visit(entry);
  return [...seen];
}

const index: CliIndex = {
  commands: commandIndex(),
  sources: cliModules(join(__dirname, 'main.js'))
    .map((file) => relative(distRoot, file).replace(/\.js$/, '.ts'))
    .sort(),
};
writeFileSync(CLI_INDEX_FILE, `${JSON.stringify(index, null, 2)}\n`);
