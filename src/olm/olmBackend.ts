import type { PeerDevice } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import type { Curve25519PublicKey } from "../events/matrixIds.js";
import type { Result } from "../result.js";
import type { StoredOlmAccount, StoredOlmSessions } from "../store/keyWithholdingStore.js";

/** The Olm algorithm name in `m.room.encrypted` content (the only one a backend speaks). */
export const OLM_ALGORITHM = "m.olm.v1.curve25519-aes-sha2" as const;

/** One entry of a /keys/claim response: `"signed_curve25519:<id>": { key, signatures, … }`. */
export interface ClaimedOneTimeKey {
  /** The whole `<algorithm>:<key id>` name, e.g. `signed_curve25519:AAAAHg`. */
  readonly keyId: string;
  /** The signed key object exactly as claimed (its `fallback` flag included when present). */
  readonly keyObject: JsonObject;
}

/** One Olm message in an `m.room.encrypted` ciphertext map. */
export type OlmCiphertext = {
  readonly type: 0 | 1;
  readonly body: string;
};

/**
 * The content of an Olm-encrypted to-device `m.room.encrypted` event (a type alias, so it is JSON).
 */
export type OlmEncryptedContent = {
  readonly algorithm: typeof OLM_ALGORITHM;
  readonly sender_key: Curve25519PublicKey;
  readonly ciphertext: Readonly<Record<string, OlmCiphertext>>;
};

/**
 * A decrypted to-device event whose plaintext passed every payload check (sender, recipient, keys).
 */
export interface DecryptedOlmEvent {
  readonly type: string;
  readonly content: JsonObject;
  /** True when this message created a new inbound session (a pre-key message). */
  readonly newSession: boolean;
}

/** Why an Olm operation failed; each is data the coordinator acts on, never a throw. */
export type OlmFailureReason =
  /** The claimed key's signature does not verify with the device's ed25519 key. */
  | "badKeySignature"
  /** The claimed key object or the encrypted content is not of the expected shape. */
  | "malformedInput"
  /**
   * A value bound for libolm is over its size limit (docs/olm-limits.md); the detail names the
   * field and the limit. Refused before libolm sees it: nothing changed.
   */
  | "inputTooLarge"
  /** No Olm session with the device exists. */
  | "noSession"
  /** libolm refused to create a session (bad key, used key, …). */
  | "sessionCreationFailed"
  | "encryptionFailed"
  /** The ciphertext map has nothing for our curve25519 key, or sender_key is not the sender's. */
  | "notForUs"
  /** No session decrypts it and it is not a usable pre-key message. */
  | "decryptionFailed"
  /** The plaintext's sender, recipient or keys do not match who sent it and who we are. */
  | "payloadMismatch"
  /** The backend was disposed; its Olm objects are gone. */
  | "disposed";

/** A failed Olm operation: a reason to branch on and a detail for logs. */
export interface OlmFailure {
  readonly reason: OlmFailureReason;
  readonly detail: string;
}

/**
 * The Olm state changed since the last `takeChanges`, as pickles, ready for the fields
 * `olmAccount` and `olmSessions` of one `StoreChanges`.
 */
export interface OlmStateChanges {
  /** The account's new pickle, or undefined when the account did not change. */
  readonly account: StoredOlmAccount | undefined;
  /** Each changed peer's full list of sessions, best first; `pickles: []` when none are left. */
  readonly sessions: readonly StoredOlmSessions[];
}

/**
 * What the withholding logic needs from a crypto layer's Olm machinery. Every method reports
 * failure as data; none throws. Implementations: `LibolmBackend` (@matrix-org/olm).
 */
export interface OlmBackend {
  /** This device, as others see it. */
  readonly ownDevice: PeerDevice;
  /** Whether an Olm session with `device` is held now (the shell sends `SESSION_LOST` when not). */
  hasSession(device: PeerDevice): boolean;
  /** Verifies the key's signature with `device.ed25519`, then creates an outbound session. */
  createOutboundSession(device: PeerDevice, key: ClaimedOneTimeKey): Result<void, OlmFailure>;
  /** Encrypts `{type, content}` for the device over its best session. */
  encrypt(
    device: PeerDevice,
    eventType: string,
    content: JsonObject,
  ): Result<OlmEncryptedContent, OlmFailure>;
  /**
   * Decrypts an Olm `m.room.encrypted` content from `sender`, creating an inbound session from a
   * pre-key message. The plaintext's sender, recipient and keys are checked; nothing changes
   * (no session kept, no one-time key used up) unless every check passes.
   */
  decrypt(sender: PeerDevice, content: JsonObject): Result<DecryptedOlmEvent, OlmFailure>;
  /**
   * Olm state changed since the last call, as pickles, for the coordinator's next commit. Backends
   * that persist nothing omit it.
   */
  takeChanges?(): OlmStateChanges | undefined;
}
