/**
 * Turning zod's issues into errors that name every bad field, for the client (before anything
 * starts) and for workflows (which parse their input again at entry).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';

/** The failure type of a workflow started with invalid input. */
export const INVALID_INPUT = 'InvalidInput';

/** One bad field: its dotted path and what was expected. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Every bad field of a failed parse, in input order. An issue about the value as a whole is
 * named `root` (`(input)` unless told: say what the value is, e.g. `argument`).
 */
export function fieldProblems(error: z.ZodError, root = '(input)'): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : root,
    message: issue.message,
  }));
}

/** `name: expected …; cpus: expected …` */
export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

/**
 * A failed parse in one line, every bad field named: `name: expected …; cpus: expected …`.
 * An issue about the value as a whole is named `root` (`(input)` unless told).
 */
export function formatIssues(error: z.ZodError, options: { root?: string } = {}): string {
  return describeProblems(fieldProblems(error, options.root));
}

/**
 * Parses a workflow's input. Invalid input fails the workflow at once with a non-retryable
 * `InvalidInput` failure naming every bad field, instead of failing its task forever.
 */
export function parseWorkflowInput<S extends z.ZodType>(schema: S, input: unknown, workflow: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = fieldProblems(result.error);
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `${workflow}: invalid input: ${describeProblems(problems)}`,
    details: [problems],
  });
}
