/**
 * What every console route reads from: the typed unwind client (the CLI's own, so the console
 * shows what `unwind` shows and never keeps a copy of saga state), the rack (firmware targets,
 * residue by resource), where the Temporal UI is, and a clock.
 */
import type { UnwindClient } from '../client';
import type { RackClient } from '../rack';

/** The console's dependencies. */
export interface ConsoleContext {
  client: UnwindClient;
  /** The rack simulator's client; `null` when the console runs without one (the firmware page says so). */
  rack: RackClient | null;
  /** The Temporal UI's address (`http://127.0.0.1:8233`), linked from each saga; `null` when there is none. */
  temporalUi: string | null;
  /** The Temporal namespace sagas run in, for Temporal UI links. */
  namespace: string;
  /** The clock "3m ago" counts from. */
  now(): Date;
}

/** The Temporal UI's page of one workflow run. */
export function temporalUiLink(context: ConsoleContext, workflowId: string, runId: string): string | null {
  if (!context.temporalUi) return null;
  return `${context.temporalUi}/namespaces/${encodeURIComponent(context.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}
