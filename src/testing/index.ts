/**
 * matrix-key-withholding/testing: the kit this repository's own tests use, for a client that
 * wants to run the same properties against its glue code. Needs `fast-check` (an optional
 * peer dependency of the package); the world and the dedup scenario load libolm.
 */

// fast-check arbitraries
export {
  anyValueArb,
  extraArb,
  hostileKeyArb,
  jsonArb,
  jsonKeyArb,
  nestedArrays,
} from "./arbitraries/jsonArbitraries.js";
export {
  anyCodePoint,
  curve25519KeyArb,
  deviceIdArb,
  reasonArb,
  roomIdArb,
  sessionIdArb,
  unknownCodeArb,
  userIdArb,
} from "./arbitraries/matrixIdArbitraries.js";
export {
  mutatedEventArb,
  type NearMiss,
  nearMissEventArb,
} from "./arbitraries/nearMissArbitraries.js";
export {
  anyCandidateArb,
  candidateArb,
  finiteTimeArb,
  idArb,
  nonZeroIdArb,
  reachableCandidateArb,
  snapshotOfShapeArb,
} from "./arbitraries/snapshotArbitraries.js";
export {
  noOlmContentArb,
  noOlmNoticeInputArb,
  type RawObject,
  rawKeyContentArb,
  rawWithheldContentArb,
  rawWithheldEventArb,
  sessionWithheldContentArb,
  sessionWithheldNoticeInputArb,
  unknownCodeContentArb,
  withheldContentArb,
  withheldEventArb,
} from "./arbitraries/withheldArbitraries.js";
// the dedup properties against a client's glue
export * from "./dedup/index.js";
// the homeserver double
export * from "./homeserver/index.js";
export {
  type DriveOptions,
  drive,
  type EventRecord,
  eventRecords,
  eventType,
  formatRecord,
  formatTrace,
  roundTrip,
  type StepRecord,
  withTrace,
} from "./model/drivePeerMachine.js";
export {
  lockstepWithModel,
  type ModelDisagreement,
  type PeerRulesUnderTest,
} from "./model/lockstepWithModel.js";
// the reference model and the per-device runs it is checked on
export {
  type Action,
  actionArb,
  type ClockMove,
  clockArb,
  type IdPick,
  type Run,
  runArb,
  type Step,
  serialSharesRunArb,
  startArb,
  stepArb,
  stepsArb,
} from "./model/peerRunArbitraries.js";
export {
  MODEL_INITIAL_STATE,
  type ModelContext,
  type ModelOlm,
  type ModelReply,
  type ModelResult,
  type ModelState,
  modelBackoffMs,
  modelWaitIsOver,
  ONE_HOUR_MS,
  PeerModel,
} from "./model/referenceModel.js";
export { nextNow, type RunContext, resolveEvent } from "./model/resolveStep.js";
// simulated devices (real libolm) on the homeserver double
export { SimulatedDevice, type SimulatedDeviceOptions } from "./world/simulatedDevice.js";
export {
  asJson,
  type DeviceSettings,
  HOUR,
  MINUTE,
  makeRobustWorld,
  noOlmDeliveries,
  ROOM,
  type RobustWorld,
  syncRaw,
} from "./world/simulatedWorld.js";
