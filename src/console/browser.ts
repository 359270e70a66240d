/**
 * Where the Chromium that drives the console's browser tests is: `UNWIND_CHROMIUM`, else
 * Debian's package (`npm run setup:browser` installs it). Shared by the setup script and the
 * tests, so both look in the same places.
 */
import { accessSync, constants } from 'node:fs';

/** Where Debian's `chromium` package puts its launcher. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The browser found (`path`), or where it was looked for in vain (`path: null`). */
export interface ChromiumLocation {
  path: string | null;
  source: 'UNWIND_CHROMIUM' | 'debian package';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds Chromium: `UNWIND_CHROMIUM` when set (and only there), else {@link DEBIAN_CHROMIUM}. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): ChromiumLocation {
  const given = env.UNWIND_CHROMIUM?.trim();
  if (given) return { path: executable(given) ? given : null, source: 'UNWIND_CHROMIUM' };
  return { path: executable(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : null, source: 'debian package' };
}

/**
 * The Chromium to launch, or an error saying how to get one: a browser test fails, never skips.
 */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const found = chromiumPath(env);
  if (found.path) return found.path;
  throw new Error(
    found.source === 'UNWIND_CHROMIUM'
      ? `UNWIND_CHROMIUM (${env.UNWIND_CHROMIUM}) is not an executable file: point it at a Chromium binary`
      : `no Chromium at ${DEBIAN_CHROMIUM}: run \`npm run setup:browser\` (installs Debian's chromium with apt-get), or set UNWIND_CHROMIUM`,
  );
}
