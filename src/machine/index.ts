export type { PeerCommand, PeerCommandType } from "./peerCommands.js";
export type { PeerContext } from "./peerContext.js";
export {
  type PeerEvent,
  type PeerEventRejection,
  type PeerEventRejectionReason,
  type PeerEventType,
  parsePeerEvent,
  type SessionOrigin,
} from "./peerEvents.js";
export { type PeerMachine, peerMachine } from "./peerMachine.js";
export {
  brokenInvariant,
  initialPeerSnapshot,
  type OlmStatus,
  type PeerSnapshot,
  type PeerStateValue,
  type PersistedPeerSnapshot,
  peerLeaves,
  persistPeerSnapshot,
  type ReplyStatus,
  restorePeerSnapshot,
  type SnapshotRejection,
} from "./peerSnapshot.js";
export { type StepRejection, type StepResult, stepPeer } from "./stepPeer.js";
export {
  CLAIM_BACKOFF_BASE_MS,
  CLAIM_BACKOFF_CAP_MS,
  claimBackoffMs,
  REPLY_INTERVAL_MS,
} from "./timing.js";
