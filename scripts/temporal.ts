/**
 * `npm run temporal -- <args>`: the Temporal CLI that unwind obtained, pointed at the local
 * stack by default (e.g. `npm run temporal -- workflow list`).
 */
import { spawnSync } from 'node:child_process';
import { ensureDevServer } from '../src/temporal/servers';

ensureDevServer()
  .then((cli) => {
    if (cli.type !== 'existing-path') throw new Error('No local Temporal CLI binary; run npm run setup:temporal.');
    const result = spawnSync(cli.path, process.argv.slice(2), {
      stdio: 'inherit',
      env: { TEMPORAL_ADDRESS: '127.0.0.1:7233', ...process.env },
    });
    process.exit(result.status ?? 1);
  })
  .catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
