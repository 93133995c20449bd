export {
  createKeyWithholding,
  DEFAULT_MAX_MESSAGES_PER_REQUEST,
  KeyWithholding,
  type KeyWithholdingOptions,
} from "./keyWithholding.js";
export type {
  EstablishOutcome,
  FlushReport,
  IncomingRejectionReason,
  IncomingResult,
  KeyWithholdingHooks,
  PeerLeaves,
  ReplyOutcome,
  SessionWithheldRequest,
  ShareOutcome,
  UndecryptableExplanation,
  UndecryptableQuery,
} from "./keyWithholdingTypes.js";
export type { WithheldReason } from "./receivedWithheld.js";
