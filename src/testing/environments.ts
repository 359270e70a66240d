/**
 * Temporal environments for tests: the time-skipping test server (timers, long waits) and the
 * dev server (visibility, search attributes, schedules). Both use the binaries that
 * `npm run setup:temporal` obtained; neither skips when a server is missing: it fails and says
 * how to get one.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributeRegistration, unwindSearchAttributes } from '../schemas/search-attributes';
import { ensureDevServer, ensureTestServer, toSdkExecutable, type ServerExecutable } from '../temporal/servers';

const HOW_TO_GET_SERVERS =
  'Run `npm run setup:temporal` (needs Go for the dev server, Java 17 and Maven for the test server), ' +
  'or set TEMPORAL_CLI / TEMPORAL_TEST_SERVER to existing binaries.';

/**
 * The SDK gives a server 5 s to answer; a JVM starting on a loaded two-core machine can miss
 * that (the test server starts in 0.9 s on a quiet machine, 1.5 s beside two busy loops, and
 * missed 5 s three times in a row at load 20). Such a miss is retried; any other failure is
 * explained at once.
 */
const START_ATTEMPTS = 6;

async function startOrExplain(
  kind: string,
  executable: ServerExecutable,
  start: () => Promise<TestWorkflowEnvironment>,
): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const slow = /did not start within/.test((err as Error).message);
      if (slow && attempt < START_ATTEMPTS) continue;
      const where = executable.type === 'existing-path' ? executable.path : 'the SDK download';
      const tries = slow ? ` (${attempt} attempts)` : '';
      throw new Error(`Could not start the Temporal ${kind} from ${where}${tries}: ${(err as Error).message}\n${HOW_TO_GET_SERVERS}`, {
        cause: err,
      });
    }
  }
}

/**
 * Starts the time-skipping test server, with unwind's search attributes registered (it rejects
 * upserts of unknown ones): `sleep('30 days')` completes as soon as nothing else is pending.
 * Builds or downloads the server on first use (see {@link ensureTestServer}).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const executable = await ensureTestServer({ allowDownload: true });
  const env = await startOrExplain('time-skipping test server', executable, () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: toSdkExecutable(executable) } }),
  );
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: searchAttributeRegistration(),
  });
  return env;
}

/**
 * Starts a dev server (in memory, random port) with unwind's search attributes registered.
 * Builds or downloads the server on first use (see {@link ensureDevServer}).
 */
export async function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  const executable = await ensureDevServer({ allowDownload: true });
  return startOrExplain('dev server', executable, () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: toSdkExecutable(executable),
        searchAttributes: [...unwindSearchAttributes],
        log: { format: 'pretty', level: 'error' },
      },
    }),
  );
}
