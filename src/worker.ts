/**
 * The unwind worker: serves every saga and activity on the `unwind` task queue.
 * Configuration comes from the environment (see src/temporal/connection.ts); UNWIND_RACK_URL
 * (default http://127.0.0.1:7280) is the rack its activities act upon; UNWIND_STREAM_CHUNK_MS
 * (default 100) how long the simulated migration takes to copy one GiB; UNWIND_LOG_LEVEL
 * (default WARN) sets the SDK's log level.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities';
import { createRackClient } from './rack/client';
import { connectionConfig, sdkTlsOptions } from './temporal/connection';
import { TASK_QUEUE, workflowsPath } from './temporal/worker-config';

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.UNWIND_LOG_LEVEL ?? 'WARN') as LogLevel) });
  const config = connectionConfig();
  const connection = await NativeConnection.connect({ address: config.address, tls: sdkTlsOptions(config.tls) });
  try {
    const rack = createRackClient({ baseUrl: process.env.UNWIND_RACK_URL ?? 'http://127.0.0.1:7280' });
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath,
      activities: createActivities({ rack, stream: { chunkMs: Number(process.env.UNWIND_STREAM_CHUNK_MS ?? 100) } }),
    });
    console.log(`unwind worker polling task queue "${TASK_QUEUE}" on ${config.address} (namespace ${config.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
