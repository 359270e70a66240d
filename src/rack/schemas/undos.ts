/** The inputs and results of the rack's undos: by the action's key or the resource's id, and reverts of updates. */
import { z } from 'zod';
import { Id } from './fields';

/**
 * The input of every undo: either the Idempotency-Key of the action to undo (it works even if
 * the caller never saw the action's response) or the id of the resource. Exactly one.
 */
export const UndoInput = z
  .strictObject({ actionKey: Id.optional(), id: Id.optional() })
  .refine((v) => (v.actionKey === undefined) !== (v.id === undefined), {
    message: 'give exactly one of actionKey (the key of the action to undo) or id (the resource id)',
    path: ['actionKey'],
  });
/**
 * The input of every undo: either the Idempotency-Key of the action to undo (it works even if
 * the caller never saw the action's response) or the id of the resource. Exactly one.
 */
export type UndoInput = z.infer<typeof UndoInput>;

/** What an undo did: `undone: false` when there was nothing (left) to undo, which is a success. */
export const UndoResult = z.object({ undone: z.boolean(), resourceId: z.string().nullable() });
/** What an undo did: `undone: false` when there was nothing (left) to undo, which is a success. */
export type UndoResult = z.infer<typeof UndoResult>;

/** A field's value as an update wrote it, in its wire form: what a revert restores or leaves. */
export const FieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A field's value as an update wrote it, in its wire form: what a revert restores or leaves. */
export type FieldValue = z.infer<typeof FieldValue>;

/**
 * The input of a revert: the Idempotency-Key of the update to revert. A revert names no
 * resource or value: the rack remembers which fields the update wrote and what they held before.
 */
export const RevertInput = z.strictObject({ actionKey: Id });
/** See {@link RevertInput}. */
export type RevertInput = z.infer<typeof RevertInput>;

/**
 * What a revert did, field by field (wire names). `restored`: fields put back to the values the
 * update replaced (one that already held it is listed, and changes nothing). `kept`: fields left
 * as they are because they no longer hold what the update set — someone changed them since
 * (`reason` says who) — or their resource is gone. `undone` is true when the revert changed
 * something; an update that never applied is fenced and nothing is restored or kept.
 */
export const RevertResult = UndoResult.extend({
  restored: z.record(z.string(), FieldValue).default({}),
  kept: z.array(z.object({ field: z.string(), value: FieldValue, reason: z.string() })).default([]),
});
/** See {@link RevertResult}. */
export type RevertResult = z.infer<typeof RevertResult>;
