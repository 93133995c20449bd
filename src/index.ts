/**
 * matrix-key-withholding: the Matrix key-withholding protocol (`m.room_key.withheld`, and the
 * `m.no_olm` rules in particular) for a client's end-to-end-encryption layer.
 *
 * - `createKeyWithholding(...)`: the object a crypto layer embeds (src/coordinator).
 * - The codec: any incoming withheld event → a typed value or a typed rejection (src/events).
 * - The per-peer machine: `stepPeer(snapshot, event)` → next snapshot + commands, pure
 *   (src/machine), and its diagram, generated from its definition (src/diagrams).
 * - The edges it needs, as narrow interfaces: Olm (`LibolmBackend` over libolm), the
 *   homeserver (`Transport`), the device list (`DeviceDirectory`), storage (`PeerStore`).
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
  DEFAULT_MAX_SESSIONS_PER_DEVICE,
  type DecryptedOlmEvent,
  LibolmBackend,
  type LibolmBackendOptions,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmCiphertext,
  type OlmEncryptedContent,
  type OlmFailure,
  type OlmFailureReason,
} from "./olm/index.js";
export { ok, type Result } from "./result.js";
export { InMemoryPeerStore, type PeerStore } from "./store/peerStore.js";
export type {
  KeysClaimRequest,
  SendToDeviceRequest,
  ToDeviceMessages,
  Transport,
  TransportFailure,
  TransportFailureReason,
} from "./transport/transport.js";
