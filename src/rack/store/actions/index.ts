/** Every action of the rack (mutations that are not undos), by name: one module per resource family. */
import type { ActionName, Actions } from '../context';
import { diskActions } from './disks';
import { firmwareActions } from './firmware';
import { instanceActions } from './instances';
import { networkActions } from './network';
import { sledActions } from './sleds';

/** How each action applies its input; typed so that a mutation without an action does not compile. */
export const actions: Actions<ActionName> = { ...sledActions, ...firmwareActions, ...instanceActions, ...diskActions, ...networkActions };
