/**
 * `npm run bench`: the runs too long for the test suite. Today: the fleet firmware rollout of
 * issue 6 — 10,000 SSDs on 1,000 sleds on the dev server — printing its wall time and the
 * history size of every workflow kind (test/firmware-fleet.test.ts at full scale).
 *
 * FLEET_SLEDS overrides the scale (10 SSDs per sled).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const result = spawnSync('npx', ['vitest', 'run', 'test/firmware-fleet.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FLEET_SLEDS: process.env.FLEET_SLEDS ?? '1000', FLEET_TIMEOUT_MS: process.env.FLEET_TIMEOUT_MS ?? '3600000' },
});
process.exit(result.status ?? 1);
