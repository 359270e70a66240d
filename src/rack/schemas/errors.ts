/**
 * The rack's error bodies. Their `class` is the failure taxonomy of DESIGN.md, the same
 * {@link FailureClass} the activity boundary classifies into (src/schemas/failures.ts).
 */
import { z } from 'zod';
import { FailureClass } from '../../schemas/failures';

/** One invalid field of a request; `field` is a dotted path such as `seed.sleds.0.cpus`. */
export const FieldIssue = z.object({ field: z.string(), message: z.string() });
/** One invalid field of a request; `field` is a dotted path such as `seed.sleds.0.cpus`. */
export type FieldIssue = z.infer<typeof FieldIssue>;

/** The body of every non-2xx response. `field` names the first bad field of a 400. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    class: FailureClass,
    field: z.string().optional(),
    issues: z.array(FieldIssue).optional(),
  }),
});
/** The body of every non-2xx response. `field` names the first bad field of a 400. */
export type ErrorBody = z.infer<typeof ErrorBody>;
