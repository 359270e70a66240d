/**
 * The unwind worker: serves every saga and activity on the `unwind` task queue.
 * The connection comes from Temporal's environment configuration (TEMPORAL_* variables and the
 * profile file, see src/temporal/connection.ts); payloads are encrypted when
 * UNWIND_ENCRYPTION_KEY_FILE or UNWIND_ENCRYPTION_KEYS is set (src/temporal/codec.ts); UNWIND_RACK_URL
 * (default http://127.0.0.1:7280) is the rack its activities act upon; UNWIND_STREAM_CHUNK_MS
 * (default 100) how long the simulated migration takes to copy one GiB; UNWIND_LOG_LEVEL
 * (default WARN) sets the SDK's log level. UNWIND_MAX_CACHED_WORKFLOWS, UNWIND_REUSE_V8_CONTEXT,
 * UNWIND_STICKY_TIMEOUT and UNWIND_MAX_CONCURRENT_WORKFLOW_TASKS size the workflow cache
 * (src/temporal/worker-config.ts, `workerTuning`: defaults and why).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities';
import { createRackClient } from './rack/client';
import { EncryptionKeyError, unwindDataConverter } from './temporal/codec';
import { ConnectionConfigError, connectionConfig, describeConnection, sdkConnectOptions } from './temporal/connection';
import { TASK_QUEUE, WorkerTuningError, workerTuning, workflowsPath } from './temporal/worker-config';

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.UNWIND_LOG_LEVEL ?? 'WARN') as LogLevel) });
  const config = connectionConfig();
  // Read before connecting, as the keys: a bad value stops the worker before it takes any task.
  const tuning = workerTuning(process.env);
  // Read the keys before connecting: a bad key file stops the worker before it takes any task.
  const dataConverter = unwindDataConverter();
  const connection = await NativeConnection.connect(sdkConnectOptions(config));
  try {
    const rack = createRackClient({ baseUrl: process.env.UNWIND_RACK_URL ?? 'http://127.0.0.1:7280' });
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath,
      ...tuning,
      // Codecs run outside the workflow sandbox: no payloadConverterPath needed.
      ...(dataConverter && { dataConverter }),
      activities: createActivities({ rack, stream: { chunkMs: Number(process.env.UNWIND_STREAM_CHUNK_MS ?? 100) } }),
    });
    const encryption = dataConverter ? 'payloads encrypted' : 'payloads not encrypted';
    const cache = `cache of ${tuning.maxCachedWorkflows} workflows, ${tuning.maxConcurrentWorkflowTaskExecutions} tasks at once`;
    console.log(`unwind worker polling task queue "${TASK_QUEUE}" on ${describeConnection(config)}, ${encryption}, ${cache}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

run().catch((err: unknown) => {
  // Settings the operator must fix: one line, naming the variable or file.
  console.error(err instanceof ConnectionConfigError || err instanceof EncryptionKeyError || err instanceof WorkerTuningError ? `unwind worker: ${err.message}` : err);
  process.exit(1);
});
