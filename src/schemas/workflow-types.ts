/**
 * The workflow types the worker serves, by name: every workflow function src/workflows/index.ts
 * exports. Kept apart from the workflows so that what only needs the names — the client's
 * generic start, `unwind start` checking its argument — loads no workflow code.
 * test/cli-start-generic.test.ts holds this list to the bundle's exports.
 */
export const WORKFLOW_TYPES = [
  'diskCreate',
  'firmwareReconciler',
  'instanceCreate',
  'instanceDelete',
  'instanceMigrate',
  'ping',
  'pingAfter',
  'remindPeople',
  'sledReplace',
  'ssdFirmwareRollout',
  'ssdFirmwareUpdate',
  'ssdFirmwareWave',
] as const;

/** A workflow type the worker serves. */
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

/** True when `name` is a workflow type the worker serves. */
export function isWorkflowType(name: string): name is WorkflowType {
  return (WORKFLOW_TYPES as readonly string[]).includes(name);
}
