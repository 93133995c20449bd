/**
 * matrix-key-withholding: the Matrix key-withholding protocol (`m.room_key.withheld`, and the
 * `m.no_olm` rules in particular) for a client's end-to-end-encryption layer.
 *
 * - `createKeyWithholding(...)`: the object a crypto layer embeds (src/coordinator).
 * - The codec: any incoming withheld event → a typed value or a typed rejection (src/events).
 * - The per-peer machine: `stepPeer(snapshot, event)` → next snapshot + commands, pure
 *   (src/machine), and its diagram, generated from its definition (src/diagrams).
 * - The edges it needs, as narrow interfaces: Olm (`LibolmBackend` over libolm), the
 *   homeserver (`Transport`), the device list (`DeviceDirectory`), storage
 *   (`KeyWithholdingStore`: `InMemoryStore` here, SQLite at `matrix-key-withholding/sqlite`).
 */
export * from "./coordinator/index.js";
export { DeviceList } from "./devices/deviceList.js";
export {
  type DeviceDirectory,
  type PeerDevice,
  type PeerKey,
  peerKeyOf,
} from "./devices/peerDevice.js";
export { mermaidStateDiagram } from "./diagrams/mermaidStateDiagram.js";
export * from "./events/index.js";
export * from "./machine/index.js";
export {
  type AccountFailure,
  type AccountFailureReason,
  type ClaimedOneTimeKey,
  DEFAULT_MAX_PEERS,
  DEFAULT_MAX_SESSIONS_PER_DEVICE,
  type DecryptedOlmEvent,
  LibolmBackend,
  type LibolmBackendOptions,
  type LibolmOpenOptions,
  MAX_ACCOUNT_PICKLE_BYTES,
  MAX_PICKLE_KEY_BYTES,
  MAX_SESSION_PICKLE_BYTES,
  MIN_PICKLE_KEY_BYTES,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmCiphertext,
  type OlmEncryptedContent,
  type OlmFailure,
  type OlmFailureReason,
  type OlmStateChanges,
} from "./olm/index.js";
export { ok, type Result } from "./result.js";
export { InMemoryStore } from "./store/inMemoryStore.js";
export {
  emptyChanges,
  type KeyWithholdingStore,
  type StoreChanges,
  type StoredMessage,
  type StoredOlmAccount,
  type StoredOlmSessions,
  type StoredOlmState,
  type StoredReceivedWithheld,
  type StoredRequest,
  type StoredState,
  type StoreError,
  type StoreErrorReason,
  StoreFailure,
} from "./store/keyWithholdingStore.js";
export type {
  KeysClaimRequest,
  SendToDeviceRequest,
  ToDeviceMessages,
  Transport,
  TransportFailure,
  TransportFailureReason,
} from "./transport/transport.js";
