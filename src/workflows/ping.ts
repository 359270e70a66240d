/**
 * A placeholder workflow: it proves the worker, the server and the bundle fit together.
 */
export async function ping(name: string): Promise<string> {
  return `pong: ${name}`;
}
