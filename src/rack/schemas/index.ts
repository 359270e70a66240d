/**
 * Wire schemas of the simulated rack: every request body, every response body, and the
 * registry of named operations that the server, the store and the client share. One module
 * per concept; this is the one import point.
 */
export {
  FieldIssue,
  ErrorBody,
} from './errors';
export {
  type ResourceName,
  type ResourceOf,
  Sled,
  Health,
  SsdState,
  Ssd,
  InstanceState,
  Instance,
  Vmm,
  Disk,
  Region,
  IpAddress,
  Nic,
  V2pMapping,
  Reservation,
  FirmwareTarget,
  resources,
  isResourceName,
} from './resources';
export {
  SledReserveInput,
  SledUpdateInput,
  SsdUpdateInput,
  SsdInstallInput,
  SsdOfflineInput,
  SsdUpdateFirmwareInput,
  SsdResetInput,
  FirmwareSetTargetInput,
  InstanceCreateInput,
  InstanceUpdateInput,
  VmmCreateInput,
  VmmUpdateInput,
  DiskCreateInput,
  DiskAttachInput,
  RegionEnsureInput,
  RegionMoveInput,
  IpAllocateInput,
  NicCreateInput,
  V2pSetInput,
} from './inputs';
export {
  UndoInput,
  UndoResult,
  FieldValue,
  RevertInput,
  RevertResult,
} from './undos';
export {
  type MutationName,
  type MutationInput,
  type MutationOutput,
  type UndoName,
  type OperationName,
  mutations,
  isMutationName,
} from './operations';
export {
  LedgerEntry,
  LedgerFilter,
  LedgerList,
  Inventory,
} from './ledger';
export {
  RackSeed,
  ResetInput,
} from './seed';
export {
  FaultKind,
  FaultRule,
  ScriptedFault,
  DriveFault,
  FaultSeedInput,
  FaultState,
} from './faults';
