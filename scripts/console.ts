/**
 * `npm run console -- [--port N] [--host ADDRESS]`: the operator console, a web page over the
 * same typed client the `unwind` CLI uses. `npm start` runs it too.
 */
import { parseArgs } from 'node:util';
import { createUnwindClient } from '../src/client';
import { DEFAULT_RACK_URL } from '../src/cli/context';
import { ConsoleConfigError, checkBinding } from '../src/console/auth';
import { DEFAULT_CONSOLE_PORT, startConsole } from '../src/console/server';
import { createRackClient } from '../src/rack';

const HELP = `Usage: npm run console -- [--port N] [--host ADDRESS]

The unwind operator console: every saga's state, steps and graph, who must act and what they
can do (retry, skip, unwind, approve, reject, report replaced hardware), grouped errors and
firmware rollouts.

Options:
  --port N          port to listen on (default ${DEFAULT_CONSOLE_PORT}; 0 picks a free one)
  --host ADDRESS    address to listen on (default 127.0.0.1). Anything beyond this machine
                    (e.g. 0.0.0.0) is refused unless UNWIND_CONSOLE_TOKEN is set; then every
                    request needs the token (a login form, or Authorization: Bearer <token>)
  -h, --help        show this help

Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, …  the Temporal connection, as for the CLI and worker
  UNWIND_RACK_URL        the rack simulator (default ${DEFAULT_RACK_URL}), for the firmware page
  UNWIND_TEMPORAL_UI     the Temporal UI linked from each saga (default http://127.0.0.1:8233;
                         empty: no links)
  UNWIND_CONSOLE_TOKEN   the access token (16+ characters)

Examples:
  $ npm run console
  $ UNWIND_CONSOLE_TOKEN=$(openssl rand -hex 24) npm run console -- --host 0.0.0.0 --port 8080`;

/** `--port`: a whole number from 0 to 65535. */
function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CONSOLE_PORT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw new ConsoleConfigError(`--port: expected a whole number from 0 to 65535 (got '${text}')`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = parsePort(values.port);
  const host = values.host ?? '127.0.0.1';
  const token = process.env.UNWIND_CONSOLE_TOKEN || undefined;
  // Checked before connecting: a refused host is a setting to fix, whether or not Temporal is up.
  checkBinding(host, token);
  const client = await createUnwindClient();
  const temporalUi = process.env.UNWIND_TEMPORAL_UI ?? 'http://127.0.0.1:8233';
  const running = await startConsole(
    {
      client,
      rack: createRackClient({ baseUrl: process.env.UNWIND_RACK_URL || DEFAULT_RACK_URL }),
      temporalUi: temporalUi || null,
      namespace: client.temporal.options.namespace,
      now: () => new Date(),
    },
    { host, port, token },
  );
  console.log(`unwind console: ${running.url}${token ? ' (access token required)' : ''}`);
  const stop = () => {
    void running.close().finally(() => client.close().finally(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const usage = err instanceof ConsoleConfigError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
  console.error(`unwind console: ${err instanceof Error ? err.message : String(err)}${usage ? " (see 'npm run console -- --help')" : ''}`);
  process.exit(usage ? 2 : 1);
});
