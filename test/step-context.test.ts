import { describe, expect, it } from 'vitest';
import { stepContext, undoByKey } from '../src/workflows/saga/step-context';

describe('a step context', () => {
  it('keys the step by workflow and step, and its undo by the action key apart', () => {
    const ctx = stepContext('disk-7', 'create-disk');
    expect(ctx.key).toBe('disk-7/create-disk');
    expect(ctx.undoKey).toEqual([{ actionKey: 'disk-7/create-disk' }, 'disk-7/create-disk/undo']);
  });

  it('spreads into an undo activity as its input and its own idempotency key', async () => {
    const calls: unknown[][] = [];
    const disksDelete = async (input: { actionKey: string }, key: string) => calls.push([input, key]);
    await disksDelete(...stepContext('disk-7', 'create-disk').undoKey);
    await disksDelete(...undoByKey('disk-7/set-v2p[0]/sled-2'));
    expect(calls).toEqual([
      [{ actionKey: 'disk-7/create-disk' }, 'disk-7/create-disk/undo'],
      [{ actionKey: 'disk-7/set-v2p[0]/sled-2' }, 'disk-7/set-v2p[0]/sled-2/undo'],
    ]);
  });

  it('cannot be changed by an action', () => {
    const ctx = stepContext('disk-7', 'create-disk');
    expect(Object.isFrozen(ctx)).toBe(true);
  });
});
