/**
 * The time the saga engine records (step timings, waits, decisions), as an ISO string. Inside a
 * workflow `Date` is the activation's time from history, so this is deterministic on replay.
 */
export const now = (): string => new Date().toISOString();
