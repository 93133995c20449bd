import Olm from "@matrix-org/olm";
import type { PeerDevice } from "../devices/peerDevice.js";
import { copyJson, isJsonObject, type JsonObject } from "../events/json.js";
import { type DeviceId, parseDeviceId, parseUserId, type UserId } from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import {
  identityKeysOf,
  publishFallbackKey,
  publishOneTimeKeys,
  signedDeviceKeys,
} from "./accountKeys.js";
import { verifiedClaimedKey } from "./claimedKey.js";
import { ciphertextFor } from "./encryptedContent.js";
import {
  type ClaimedOneTimeKey,
  type DecryptedOlmEvent,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmEncryptedContent,
  type OlmFailure,
  type OlmFailureReason,
} from "./olmBackend.js";
import { callOlm, describeOlmError, olmFailure } from "./olmFailure.js";
import {
  exceedsDeviceKeyLimits,
  exceedsKeyLimit,
  exceedsOlmLimit,
  MAX_OLM_PLAINTEXT_BYTES,
} from "./olmInputLimits.js";
import { buildOlmPlaintext, readOlmPlaintext } from "./olmPlaintext.js";
import { initOlm } from "./olmRuntime.js";
import { SessionStore } from "./sessionStore.js";

/** The spec asks to keep at least 4 sessions per device; one more leaves room for glare. */
export const DEFAULT_MAX_SESSIONS_PER_DEVICE = 5;

export interface LibolmBackendOptions {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  /** Sessions kept per peer identity key; the least recently used beyond this are freed. */
  readonly maxSessionsPerDevice?: number;
}

/**
 * `OlmBackend` on libolm 3.2.15, with the account management a client (or a test) needs to
 * publish keys. Owns wasm memory: call `dispose()` when done; afterwards every call fails as data.
 */
export class LibolmBackend implements OlmBackend {
  private readonly sessions: SessionStore<Olm.Session>;
  private disposed = false;

  private constructor(
    private readonly account: Olm.Account,
    readonly ownDevice: PeerDevice,
    private readonly deviceKeys: JsonObject,
    maxSessionsPerDevice: number,
  ) {
    this.sessions = new SessionStore(maxSessionsPerDevice);
  }

  /** Loads libolm (once per process) and creates a fresh account for the device. */
  static async create(
    options: LibolmBackendOptions,
  ): Promise<Result<LibolmBackend, AccountFailure>> {
    const max = options.maxSessionsPerDevice ?? DEFAULT_MAX_SESSIONS_PER_DEVICE;
    if (!Number.isSafeInteger(max) || max < 1) {
      return accountFailure("invalidArgument", "maxSessionsPerDevice must be a positive integer.");
    }
    const userId = parseUserId(options.userId);
    const deviceId = parseDeviceId(options.deviceId);
    if (!userId.ok || !deviceId.ok)
      return accountFailure("invalidArgument", "Invalid user or device ID.");
    const loaded = await initOlm();
    if (!loaded.ok) return loaded;
    let account: Olm.Account | undefined;
    try {
      account = new Olm.Account();
      account.create();
      const identity = identityKeysOf(account);
      if (!identity.ok) return freeing(account, identity);
      const device: PeerDevice = {
        userId: userId.value,
        deviceId: deviceId.value,
        ...identity.value,
      };
      const deviceKeys = signedDeviceKeys(account, device);
      if (!deviceKeys.ok) return freeing(account, deviceKeys);
      return ok(new LibolmBackend(account, Object.freeze(device), deviceKeys.value, max));
    } catch (error) {
      return freeing(account, accountFailure("keyGenerationFailed", describeOlmError(error)));
    }
  }

  /** The signed `device_keys` object for /keys/upload. */
  signedDeviceKeys(): JsonObject {
    return this.deviceKeys;
  }

  /** `count` new signed one-time keys for /keys/upload (`"signed_curve25519:<id>": {key, signatures}`). */
  generateOneTimeKeys(count: number): Result<Record<string, JsonObject>, AccountFailure> {
    return this.guardedAccount(() => {
      if (
        !Number.isSafeInteger(count) ||
        count < 0 ||
        count > this.account.max_number_of_one_time_keys()
      ) {
        return accountFailure(
          "invalidArgument",
          "count must be an integer from 0 to libolm's maximum (100).",
        );
      }
      return publishOneTimeKeys(this.account, this.ownDevice, count);
    });
  }

  /** A new signed fallback key for /keys/upload's `fallback_keys` (`{key, fallback: true, signatures}`). */
  generateFallbackKey(): Result<Record<string, JsonObject>, AccountFailure> {
    return this.guardedAccount(() => publishFallbackKey(this.account, this.ownDevice));
  }

  hasSession(device: PeerDevice): boolean {
    try {
      return !this.disposed && this.sessions.has(device.curve25519);
    } catch {
      return false;
    }
  }

  createOutboundSession(device: PeerDevice, claimed: ClaimedOneTimeKey): Result<void, OlmFailure> {
    return this.guarded("sessionCreationFailed", () => {
      // Sizes are checked before libolm sees a value (docs/olm-limits.md).
      const deviceKeys = exceedsDeviceKeyLimits(device);
      if (deviceKeys !== undefined) return deviceKeys;
      const key = verifiedClaimedKey(device, claimed);
      if (!key.ok) return key;
      const oneTimeKey = exceedsKeyLimit("The claimed one-time key", key.value);
      if (oneTimeKey !== undefined) return oneTimeKey;
      const session = new Olm.Session();
      const created = callOlm("sessionCreationFailed", () =>
        session.create_outbound(this.account, device.curve25519, key.value),
      );
      if (!created.ok) {
        session.free();
        return created;
      }
      this.sessions.add(device.curve25519, session);
      return ok(undefined);
    });
  }

  encrypt(
    device: PeerDevice,
    eventType: string,
    content: JsonObject,
  ): Result<OlmEncryptedContent, OlmFailure> {
    return this.guarded("encryptionFailed", () => {
      const session = this.sessions.best(device.curve25519);
      if (session === undefined)
        return olmFailure("noSession", `No Olm session with ${device.deviceId}.`);
      if (typeof eventType !== "string")
        return olmFailure("malformedInput", "The event type is not a string.");
      const copied = copyJson(content);
      if (!copied.ok || !isJsonObject(copied.value)) {
        return olmFailure("malformedInput", "The content is not a JSON object.");
      }
      const plaintext = buildOlmPlaintext({
        sender: this.ownDevice,
        senderDeviceKeys: this.deviceKeys,
        recipient: device,
        type: eventType,
        content: copied.value,
      });
      const text = JSON.stringify(plaintext);
      const tooLarge = exceedsOlmLimit(
        "The plaintext (event type, content and our device keys)",
        text,
        MAX_OLM_PLAINTEXT_BYTES,
      );
      if (tooLarge !== undefined) return tooLarge;
      const message = callOlm("encryptionFailed", () => session.encrypt(text));
      if (!message.ok) return message;
      const { type, body } = message.value;
      return ok({
        algorithm: OLM_ALGORITHM,
        sender_key: this.ownDevice.curve25519,
        ciphertext: { [device.curve25519]: { type, body } },
      });
    });
  }

  decrypt(sender: PeerDevice, content: JsonObject): Result<DecryptedOlmEvent, OlmFailure> {
    return this.guarded("decryptionFailed", () => {
      // The sender's key and the body (checked in ciphertextFor) go onto libolm's wasm stack.
      const senderKeys = exceedsDeviceKeyLimits(sender);
      if (senderKeys !== undefined) return senderKeys;
      const message = ciphertextFor(content, sender, this.ownDevice);
      if (!message.ok) return message;
      const { type, body } = message.value;
      if (type === 1) return this.decryptNormal(sender, body);
      // A pre-key message belongs to an existing session when it carries that session's keys.
      const existing = this.sessions
        .ranked(sender.curve25519)
        .find((session) => matches(session, sender, body));
      return existing === undefined
        ? this.decryptNewSession(sender, body)
        : this.decryptOn(existing, sender, 0, body);
    });
  }

  /**
   * Drops and frees every session with the device, as a client does to replace a session it
   * believes corrupted ("Recovering from undecryptable messages"). Returns how many it dropped.
   */
  forgetSessions(device: PeerDevice): number {
    if (this.disposed) return 0;
    try {
      return this.sessions.forget(device.curve25519);
    } catch {
      return 0;
    }
  }

  /** Frees the account and every session. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Best effort and silent: libolm's free() does not throw, and dispose must not either.
    for (const release of [() => this.sessions.freeAll(), () => this.account.free()]) {
      try {
        release();
      } catch {}
    }
  }

  /** A normal (type 1) message names no session: try the sender's, best first. */
  private decryptNormal(sender: PeerDevice, body: string): Result<DecryptedOlmEvent, OlmFailure> {
    let lastError = "No Olm session with the sender.";
    for (const session of this.sessions.ranked(sender.curve25519)) {
      const result = this.decryptOn(session, sender, 1, body);
      if (result.ok || result.reason !== "decryptionFailed") return result;
      lastError = result.detail;
    }
    return olmFailure("decryptionFailed", lastError);
  }

  /**
   * Decrypts on a kept session. When the plaintext fails the checks, the session keeps its
   * advanced ratchet (libolm cannot undo it) but is not ranked up.
   */
  private decryptOn(
    session: Olm.Session,
    sender: PeerDevice,
    type: 0 | 1,
    body: string,
  ): Result<DecryptedOlmEvent, OlmFailure> {
    const text = callOlm("decryptionFailed", () => session.decrypt(type, body));
    if (!text.ok) return text;
    const event = readOlmPlaintext(text.value, sender, this.ownDevice);
    if (!event.ok) return event;
    this.sessions.markReceived(sender.curve25519, session);
    return ok({ ...event.value, newSession: false });
  }

  /** Only a fully checked message may keep its session and use up our one-time key. */
  private decryptNewSession(
    sender: PeerDevice,
    body: string,
  ): Result<DecryptedOlmEvent, OlmFailure> {
    const session = new Olm.Session();
    let kept = false;
    try {
      const created = callOlm("decryptionFailed", () =>
        session.create_inbound_from(this.account, sender.curve25519, body),
      );
      if (!created.ok) return created;
      const text = callOlm("decryptionFailed", () => session.decrypt(0, body));
      if (!text.ok) return text;
      const event = readOlmPlaintext(text.value, sender, this.ownDevice);
      if (!event.ok) return event;
      const removed = callOlm("decryptionFailed", () => this.account.remove_one_time_keys(session));
      if (!removed.ok) return removed;
      this.sessions.add(sender.curve25519, session);
      kept = true;
      return ok({ ...event.value, newSession: true });
    } finally {
      if (!kept) session.free();
    }
  }

  /** The last line of "never throws": disposed objects are never touched, and anything unforeseen is data. */
  private guarded<T>(
    reason: OlmFailureReason,
    action: () => Result<T, OlmFailure>,
  ): Result<T, OlmFailure> {
    if (this.disposed) return olmFailure("disposed", DISPOSED);
    try {
      return action();
    } catch (error) {
      return olmFailure(reason, describeOlmError(error));
    }
  }

  private guardedAccount<T>(action: () => Result<T, AccountFailure>): Result<T, AccountFailure> {
    if (this.disposed) return accountFailure("disposed", DISPOSED);
    try {
      return action();
    } catch (error) {
      return accountFailure("keyGenerationFailed", describeOlmError(error));
    }
  }
}

const DISPOSED = "The backend has been disposed.";

function matches(session: Olm.Session, sender: PeerDevice, body: string): boolean {
  const result = callOlm("decryptionFailed", () =>
    session.matches_inbound_from(sender.curve25519, body),
  );
  return result.ok && result.value;
}

function freeing<T extends { readonly ok: false }>(
  account: Olm.Account | undefined,
  failure: T,
): T {
  account?.free();
  return failure;
}
