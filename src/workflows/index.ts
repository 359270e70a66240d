/**
 * The workflow bundle entry: every workflow and message definition the worker serves.
 */
export { diskCreate } from './disk-create';
export { firmwareReconciler } from './firmware-reconciler';
export { firmwareRolloutStatusQuery, rescanSignal, ssdBlockedSignal, ssdSettledSignal } from './firmware-messages';
export { ssdFirmwareRollout } from './ssd-firmware-rollout';
export { ssdFirmwareUpdate } from './ssd-firmware-update';
export { ssdFirmwareWave } from './ssd-firmware-wave';
export { instanceCreate } from './instance-create';
export { instanceDelete } from './instance-delete';
export { instanceMigrate } from './instance-migrate';
export { ping, pingAfter } from './ping';
export { remindPeople } from './remind-people';
export { hardwareReplacedUpdate, sledReplace } from './sled-replace';
export { approveUpdate, rejectUpdate, retryUpdate, sagaStatusQuery, skipUpdate, unwindUpdate } from './saga';
