export type { AccountFailure, AccountFailureReason } from "./accountFailure.js";
export { canonicalJson, signingPayload } from "./canonicalJson.js";
export {
  DEFAULT_MAX_PEERS,
  DEFAULT_MAX_SESSIONS_PER_DEVICE,
  LibolmBackend,
  type LibolmBackendOptions,
  type LibolmOpenOptions,
} from "./libolmBackend.js";
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
} from "./olmBackend.js";
export {
  MAX_ED25519_SIGNATURE_BYTES,
  MAX_OLM_BODY_BYTES,
  MAX_OLM_KEY_BYTES,
  MAX_OLM_PLAINTEXT_BYTES,
  MAX_SIGNED_JSON_BYTES,
} from "./olmInputLimits.js";
export {
  MAX_ACCOUNT_PICKLE_BYTES,
  MAX_PICKLE_KEY_BYTES,
  MAX_SESSION_PICKLE_BYTES,
  MIN_PICKLE_KEY_BYTES,
} from "./olmPickles.js";
export { buildOlmPlaintext, type OlmPlaintextParts, readOlmPlaintext } from "./olmPlaintext.js";
export { loadLibolm } from "./olmRuntime.js";
export { type Ed25519Signer, ed25519KeyName, signJson, verifyJsonSignature } from "./signedJson.js";
export type { LibolmLoadOptions } from "./wasmSource.js";
