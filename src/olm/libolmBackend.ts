import type Olm from "@matrix-org/olm";
import type { PeerDevice } from "../devices/peerDevice.js";
import { copyJson, isJsonObject, type JsonObject } from "../events/json.js";
import { ok, type Result } from "../result.js";
import { emptyChanges, type KeyWithholdingStore } from "../store/keyWithholdingStore.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { publishFallbackKey, publishOneTimeKeys } from "./accountKeys.js";
import { verifiedClaimedKey } from "./claimedKey.js";
import { ciphertextFor } from "./encryptedContent.js";
import { KeptSession } from "./keptSession.js";
import {
  type BackendParts,
  type BackendSettings,
  checkOptions,
  freshParts,
  type LibolmBackendOptions,
  restoredParts,
} from "./libolmSetup.js";
import {
  type ClaimedOneTimeKey,
  type DecryptedOlmEvent,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmEncryptedContent,
  type OlmFailure,
  type OlmFailureReason,
  type OlmStateChanges,
} from "./olmBackend.js";
import { callOlm, describeOlmError, olmFailure } from "./olmFailure.js";
import {
  exceedsDeviceKeyLimits,
  exceedsKeyLimit,
  exceedsOlmLimit,
  MAX_OLM_PLAINTEXT_BYTES,
} from "./olmInputLimits.js";
import { olmModule } from "./olmModule.js";
import type { PickleKey } from "./olmPickles.js";
import { buildOlmPlaintext, readOlmPlaintext } from "./olmPlaintext.js";
import { loadLibolm } from "./olmRuntime.js";
import type { SessionStore } from "./sessionStore.js";
import { checkStoredOlmState } from "./storedOlmState.js";

export {
  DEFAULT_MAX_PEERS,
  DEFAULT_MAX_SESSIONS_PER_DEVICE,
  type LibolmBackendOptions,
} from "./libolmSetup.js";

/** `LibolmBackend.open`'s options: the store it reads (and first commits to) and a pickle key. */
export interface LibolmOpenOptions extends LibolmBackendOptions {
  readonly store: Pick<KeyWithholdingStore, "loadOlm" | "commit">;
  readonly pickleKey: Uint8Array;
}

/**
 * `OlmBackend` on libolm 3.2.15, with the account management a client (or a test) needs to
 * publish keys. Owns wasm memory: call `dispose()` when done; afterwards every call fails as data.
 *
 * With a pickle key (`open`, or `create` given one) it keeps each changed object's pickle as of
 * its last change and hands them out through `takeChanges`. Each operation pickles what it
 * changed before it records the change; if libolm cannot pickle (a wasm fault), the operation
 * fails and the backend disposes itself, so no state exists that `takeChanges` cannot report.
 */
export class LibolmBackend implements OlmBackend {
  readonly ownDevice: PeerDevice;
  private readonly account: Olm.Account;
  private readonly deviceKeys: JsonObject;
  private readonly sessions: SessionStore<KeptSession>;
  private readonly pickleKey: PickleKey | undefined;
  private accountPickle: string;
  private accountDirty: boolean;
  private disposed = false;
  /** What `takeChanges` had not yet handed out when the backend was disposed. */
  private changesAtDispose: OlmStateChanges | undefined;

  private constructor(parts: BackendParts) {
    this.account = parts.account;
    this.ownDevice = parts.ownDevice;
    this.deviceKeys = parts.deviceKeys;
    this.sessions = parts.sessions;
    this.pickleKey = parts.pickleKey;
    this.accountPickle = parts.accountPickle;
    this.accountDirty = parts.accountDirty;
  }

  /**
   * Loads libolm (once per process) and creates a fresh account for the device. Nothing is
   * read from or written to a store; with `pickleKey`, the first `takeChanges` has the account.
   */
  static async create(
    options: LibolmBackendOptions,
  ): Promise<Result<LibolmBackend, AccountFailure>> {
    const settings = checkOptions(options);
    if (!settings.ok) return settings;
    const loaded = await loadLibolm(options);
    if (!loaded.ok) return loaded;
    const parts = freshParts(settings.value);
    return parts.ok ? ok(new LibolmBackend(parts.value)) : parts;
  }

  /**
   * Opens the device's saved account and sessions from `store`, or, if it has none, creates an
   * account and commits it before returning, so the identity is durable before any of its keys
   * is published. The stored state is untrusted: every failure is a typed `AccountFailure`
   * (`storeFailed`, `badPickle`, …), never a throw and never a silent fresh start.
   */
  static async open(options: LibolmOpenOptions): Promise<Result<LibolmBackend, AccountFailure>> {
    const settings = checkOptions(options);
    if (!settings.ok) return settings;
    const { pickleKey } = settings.value;
    if (pickleKey === undefined) {
      return accountFailure("invalidArgument", "open needs a pickleKey.");
    }
    const loaded = await loadLibolm(options);
    if (!loaded.ok) return loaded;
    const stored = await attemptStore(() => options.store.loadOlm());
    if (!stored.ok) return stored;
    if (stored.value === undefined) {
      return LibolmBackend.createCommitted(settings.value, options.store);
    }
    const checked = checkStoredOlmState(stored.value, {
      maxPeers: settings.value.maxPeers,
      maxPerPeer: settings.value.maxPerPeer,
    });
    if (!checked.ok) return checked;
    const parts = restoredParts({ ...settings.value, pickleKey }, checked.value);
    return parts.ok ? ok(new LibolmBackend(parts.value)) : parts;
  }

  private static async createCommitted(
    settings: BackendSettings,
    store: LibolmOpenOptions["store"],
  ): Promise<Result<LibolmBackend, AccountFailure>> {
    const parts = freshParts(settings);
    if (!parts.ok) return parts;
    const backend = new LibolmBackend(parts.value);
    const olmAccount = { pickle: backend.accountPickle };
    const committed = await attemptStore(() => store.commit({ ...emptyChanges(), olmAccount }));
    if (!committed.ok) {
      backend.dispose();
      return committed;
    }
    backend.accountDirty = false;
    return ok(backend);
  }

  /**
   * The Olm state changed since the last call, as pickles, for the caller's next commit;
   * undefined when nothing changed, and always without a pickle key. Call it after every
   * operation whose result leaves the process (an encrypted message, published keys) and commit
   * its answer before that result is sent. After `dispose`, the changes not yet taken are
   * handed out once more.
   */
  takeChanges(): OlmStateChanges | undefined {
    if (this.disposed) {
      const pending = this.changesAtDispose;
      this.changesAtDispose = undefined;
      return pending;
    }
    if (this.pickleKey === undefined) return undefined;
    const peers = this.sessions.takeChanged();
    if (!this.accountDirty && peers.length === 0) return undefined;
    const account = this.accountDirty ? { pickle: this.accountPickle } : undefined;
    this.accountDirty = false;
    return {
      account,
      sessions: peers.map((peer) => ({
        peer,
        pickles: this.sessions.ranked(peer).map((session) => session.pickle),
      })),
    };
  }

  /** The signed `device_keys` object for /keys/upload. */
  signedDeviceKeys(): JsonObject {
    return this.deviceKeys;
  }

  /**
   * `count` new signed one-time keys for /keys/upload (`"signed_curve25519:<id>": {key,
   * signatures}`).
   */
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
      const published = publishOneTimeKeys(this.account, this.ownDevice, count);
      // Re-pickled whatever the outcome: keys made and not published are in the account too.
      this.accountChanged();
      return published;
    });
  }

  /**
   * A new signed fallback key for /keys/upload's `fallback_keys` (`{key, fallback: true,
   * signatures}`).
   */
  generateFallbackKey(): Result<Record<string, JsonObject>, AccountFailure> {
    return this.guardedAccount(() => {
      const published = publishFallbackKey(this.account, this.ownDevice);
      this.accountChanged();
      return published;
    });
  }

  /** Whether a session with `device` is kept (in memory, as pickled). */
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
      const session = new (olmModule().Session)();
      let kept = false;
      try {
        const created = callOlm("sessionCreationFailed", () =>
          session.create_outbound(this.account, device.curve25519, key.value),
        );
        if (!created.ok) return created;
        this.sessions.add(device.curve25519, new KeptSession(session, this.pickled(session)));
        kept = true;
        return ok(undefined);
      } finally {
        if (!kept) session.free();
      }
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
      const message = callOlm("encryptionFailed", () => session.olm.encrypt(text));
      if (!message.ok) return message;
      // Encrypting moves the sending chain on: the old pickle would reuse its message keys.
      session.pickle = this.pickled(session.olm);
      this.sessions.markChanged(device.curve25519);
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

  /**
   * Frees the account and every session and wipes the pickle key. Idempotent. Changes not yet
   * taken stay available to one more `takeChanges`.
   */
  dispose(): void {
    if (this.disposed) return;
    try {
      this.changesAtDispose = this.takeChanges();
    } catch {}
    this.disposed = true;
    // Best effort and silent: libolm's free() does not throw, and dispose must not either.
    for (const release of [
      () => this.sessions.freeAll(),
      () => this.account.free(),
      () => this.pickleKey?.wipe(),
    ]) {
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
    session: KeptSession,
    sender: PeerDevice,
    type: 0 | 1,
    body: string,
  ): Result<DecryptedOlmEvent, OlmFailure> {
    // libolm changes nothing when it fails to decrypt, and the ratchet whenever it succeeds.
    const text = callOlm("decryptionFailed", () => session.olm.decrypt(type, body));
    if (!text.ok) return text;
    session.pickle = this.pickled(session.olm);
    this.sessions.markChanged(sender.curve25519);
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
    const session = new (olmModule().Session)();
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
      // Both pickled before either is recorded: a used one-time key must stay used after restore.
      const sessionPickle = this.pickled(session);
      this.accountChanged();
      this.sessions.add(sender.curve25519, new KeptSession(session, sessionPickle));
      kept = true;
      return ok({ ...event.value, newSession: true });
    } finally {
      if (!kept) session.free();
    }
  }

  /**
   * The last line of "never throws": disposed objects are never touched, and anything unforeseen is
   * data.
   */
  private guarded<T>(
    reason: OlmFailureReason,
    action: () => Result<T, OlmFailure>,
  ): Result<T, OlmFailure> {
    if (this.disposed) return olmFailure("disposed", DISPOSED);
    try {
      return action();
    } catch (error) {
      return olmFailure(reason, this.describeFault(error));
    }
  }

  private guardedAccount<T>(action: () => Result<T, AccountFailure>): Result<T, AccountFailure> {
    if (this.disposed) return accountFailure("disposed", DISPOSED);
    try {
      return action();
    } catch (error) {
      return accountFailure("keyGenerationFailed", this.describeFault(error));
    }
  }

  /**
   * The pickle of an object about to be recorded as changed ("" without a pickle key). A failure
   * throws, for `guarded` to dispose the backend: state that cannot be saved must not be used.
   */
  private pickled(target: Olm.Account | Olm.Session): string {
    if (this.pickleKey === undefined) return "";
    try {
      return this.pickleKey.pickle(target);
    } catch (error) {
      throw new PickleFault(describeOlmError(error));
    }
  }

  /** Re-pickles the account after a call that may have changed it; dirty only if it did. */
  private accountChanged(): void {
    if (this.pickleKey === undefined) return;
    // libolm's pickles are deterministic for one key (its IV comes from the key), so an equal
    // pickle is an unchanged account: no keys made, or a fallback key "removed" (it stays).
    const pickle = this.pickled(this.account);
    if (pickle === this.accountPickle) return;
    this.accountPickle = pickle;
    this.accountDirty = true;
  }

  private describeFault(error: unknown): string {
    if (!(error instanceof PickleFault)) return describeOlmError(error);
    this.dispose();
    return `libolm could not pickle the changed state (${error.message}); the backend is disposed.`;
  }
}

const DISPOSED = "The backend has been disposed.";

/** A pickling failure, thrown only between `pickled` and `guarded`. */
class PickleFault extends Error {}

/** Runs a store call; whatever it throws or rejects with is `storeFailed`. */
async function attemptStore<T>(call: () => Promise<T>): Promise<Result<T, AccountFailure>> {
  try {
    return ok(await call());
  } catch (error) {
    // The store's message is the client's to read, but bounded: a store is untrusted too.
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    return accountFailure("storeFailed", `The store failed: ${detail.slice(0, 200)}`);
  }
}

function matches(session: KeptSession, sender: PeerDevice, body: string): boolean {
  const result = callOlm("decryptionFailed", () =>
    session.olm.matches_inbound_from(sender.curve25519, body),
  );
  return result.ok && result.value;
}
