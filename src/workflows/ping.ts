/**
 * Placeholder workflows: they prove the worker, the servers and the bundle fit together.
 */
import { sleep } from '@temporalio/workflow';

/** Answers at once. */
export async function ping(name: string): Promise<string> {
  return `pong: ${name}`;
}

/** Sleeps on a durable timer, then answers: on the time-skipping server, days pass in seconds. */
export async function pingAfter(name: string, delay: string): Promise<string> {
  await sleep(delay as Parameters<typeof sleep>[0]);
  return `pong after ${delay}: ${name}`;
}
