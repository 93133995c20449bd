/**
 * matrix-key-withholding: the Matrix key-withholding protocol (`m.room_key.withheld`, and the
 * `m.no_olm` rules in particular) for a client's end-to-end-encryption layer.
 *
 * - `createKeyWithholding(...)`: the object a crypto layer embeds (src/coordinator).
 * - The codec: any incoming withheld event → a typed value or a typed rejection (src/events).
 * - The per-peer machine: `stepPeer(snapshot, event)` → next snapshot + commands, pure
 *   (src/machine), and its diagram, generated from its definition (src/diagrams).
 * - The edges it needs, as narrow interfaces: Olm (`OlmBackend`; `LibolmBackend` over libolm at
 *   `matrix-key-withholding/libolm`), the homeserver (`Transport`), the device list
 *   (`DeviceDirectory`), storage (`KeyWithholdingStore`: `InMemoryStore` here, SQLite at
 *   `matrix-key-withholding/sqlite`).
 *
 * This entry imports neither libolm nor any Node built-in, so it bundles for a browser as it is
 * (test/package/browserBundles.test.ts).
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
  type ClaimedOneTimeKey,
  type DecryptedOlmEvent,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmCiphertext,
  type OlmEncryptedContent,
  type OlmFailure,
  type OlmFailureReason,
  type OlmStateChanges,
} from "./olm/olmBackend.js";
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
