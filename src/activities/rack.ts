/**
 * Rack activities: one activity per rack mutation, named after it (`regions.ensure` becomes
 * `regionsEnsure`), so a saga's history reads as the list of rack operations it performed.
 * Each takes the operation's input and the idempotency key the saga engine derived for the
 * step (`<workflowId>/<step>`); the rack applies a key at most once.
 */
import type { RackClient } from '../rack/client';
import { mutations, type MutationInput, type MutationName, type MutationOutput } from '../rack/schemas';

/** `regions.ensure` → `regionsEnsure`. */
export type RackActivityName<N extends MutationName> = N extends `${infer R}.${infer V}` ? `${R}${Capitalize<V>}` : never;

/** Every rack mutation as an activity. */
export type RackActivities = {
  [N in MutationName as RackActivityName<N>]: (input: MutationInput<N>, key: string) => Promise<MutationOutput<N>>;
};

/** The activity name of a rack operation. */
export function rackActivityName<N extends MutationName>(operation: N): RackActivityName<N> {
  const [resource, verb] = operation.split('.') as [string, string];
  return `${resource}${verb[0]!.toUpperCase()}${verb.slice(1)}` as RackActivityName<N>;
}

/** Builds the rack activities over a rack client. */
export function createRackActivities(rack: RackClient): RackActivities {
  const entries = (Object.keys(mutations) as MutationName[]).map((operation) => [
    rackActivityName(operation),
    (input: MutationInput<typeof operation>, key: string) => rack.call(operation, input, key),
  ]);
  return Object.fromEntries(entries) as RackActivities;
}
