/**
 * Every activity the unwind worker registers, built from its dependencies. Workflows see
 * these only as types (`import type { Activities }`) through `proxyActivities`.
 */
import type { RackClient } from '../rack/client';
import { withBoundaries, type BackoffOptions } from './boundary';
import { createFirmwareActivities } from './firmware';
import { createInstanceActivities, type StreamOptions } from './instances';
import { createOperatorActivities, type PersonNotificationSink, type OperatorNotificationSink } from './notify-operator';
import { createRackActivities } from './rack';
import { createSledActivities } from './sleds';

/** What the activities act upon. */
export interface ActivityDeps {
  /** The rack's subsystems. */
  rack: RackClient;
  /** Where operator notifications go; logged unless told. */
  notifications?: OperatorNotificationSink;
  /** Where approval requests, reminders and escalations go; logged unless told. */
  personNotifications?: PersonNotificationSink;
  /** Backoff of transient failures; 1 s base, 60 s cap unless told. */
  backoff?: BackoffOptions;
  /** How fast migrations stream guest memory. */
  stream?: StreamOptions;
}

/**
 * Builds the activities: rack mutations, instance placement and migration, and operator
 * notifications, each behind the failure
 * boundary that classifies errors into unwind's taxonomy.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...withBoundaries(createRackActivities(deps.rack), deps.backoff),
    ...withBoundaries(createFirmwareActivities(deps.rack), deps.backoff),
    ...withBoundaries(createInstanceActivities(deps.rack, deps.stream), deps.backoff),
    ...withBoundaries(createSledActivities(deps.rack), deps.backoff),
    ...createOperatorActivities({ sink: deps.notifications, personSink: deps.personNotifications, backoff: deps.backoff }),
  };
}

/** The activity object the worker registers. */
export type Activities = ReturnType<typeof createActivities>;
export type { RackActivities } from './rack';
