export { HookTimedOut } from "./callHook.js";
export {
  createKeyWithholding,
  type KeyWithholding,
  openKeyWithholding,
} from "./keyWithholding.js";
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_MESSAGES_PER_REQUEST,
  DEFAULT_MAX_RECEIVED_WITHHELD,
  type KeyWithholdingOptions,
  type OptionsRejection,
} from "./keyWithholdingOptions.js";
export type {
  EstablishOutcome,
  FlushReport,
  IncomingRejectionReason,
  IncomingResult,
  KeyWithholdingHooks,
  PeerLeaves,
  Refusal,
  RefusalReason,
  ReplyOutcome,
  SessionWithheldRequest,
  ShareOutcome,
  UndecryptableExplanation,
  UndecryptableQuery,
  WakeUp,
} from "./keyWithholdingTypes.js";
export type { OpenRejection } from "./loadStoredState.js";
export type { KeyWithholdingLogger, LogLevel } from "./logger.js";
export { RETRY_BASE_MS, RETRY_CAP_MS } from "./outbox.js";
export type { KeyWithholdingInspection } from "./peerInspection.js";
export { type Clock, systemClock } from "./protocolClock.js";
export type { WithheldReason } from "./receivedWithheld.js";
