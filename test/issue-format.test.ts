import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldProblems, formatIssues } from '../src/schemas/validation';

const Disk = z.object({ name: z.string().min(1, 'must not be empty'), size: z.object({ gib: z.number().int() }) });

function errorOf(schema: z.ZodType, value: unknown): z.ZodError {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected the parse to fail');
  return parsed.error;
}

describe('formatIssues', () => {
  it('names every bad field by its dotted path, in input order', () => {
    expect(formatIssues(errorOf(Disk, { name: '', size: { gib: 1.5 } }))).toBe(
      'name: must not be empty; size.gib: Invalid input: expected int, received number',
    );
  });

  it('names an issue about the whole value "(input)", or as the caller says', () => {
    const error = errorOf(Disk, 'disk-7');
    expect(formatIssues(error)).toMatch(/^\(input\): /);
    expect(formatIssues(error, { root: 'argument' })).toMatch(/^argument: Invalid input: expected object/);
    expect(fieldProblems(error, '(body)')[0]?.field).toBe('(body)');
  });
});
