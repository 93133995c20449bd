import type Olm from "@matrix-org/olm";
import type { PeerDevice } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import { type DeviceId, parseDeviceId, parseUserId, type UserId } from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { identityKeysOf, signedDeviceKeys } from "./accountKeys.js";
import { KeptSession } from "./keptSession.js";
import { describeOlmError } from "./olmFailure.js";
import { olmModule } from "./olmModule.js";
import { PickleKey } from "./olmPickles.js";
import { SessionStore } from "./sessionStore.js";
import type { CheckedOlmState } from "./storedOlmState.js";
import type { LibolmLoadOptions } from "./wasmSource.js";

/** The spec asks to keep at least 4 sessions per device; one more leaves room for glare. */
export const DEFAULT_MAX_SESSIONS_PER_DEVICE = 5;

/**
 * Peers (identity keys) with sessions kept at most. A libolm session takes about 3.4 KB of wasm
 * heap and 50 µs to unpickle (measured, node 20), so the default bounds the worst case (5
 * sessions each) near 850 MB and 13 s at open, while staying well above the device count of a
 * large account.
 */
export const DEFAULT_MAX_PEERS = 50_000;

/** `wasmUrl` / `wasmBinary`: where libolm's wasm comes from, if not where libolm looks. */
export interface LibolmBackendOptions extends LibolmLoadOptions {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  /** Sessions kept per peer identity key; the least recently used beyond this are freed. */
  readonly maxSessionsPerDevice?: number;
  /** Peers kept; beyond it the least recently active peer's sessions are all freed. */
  readonly maxPeers?: number;
  /**
   * The key the account and sessions are pickled with (32 to 1,024 bytes; copied, so the caller
   * may wipe its array). Without it nothing is pickled and `takeChanges` always returns undefined.
   */
  readonly pickleKey?: Uint8Array;
}

export interface BackendSettings {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  readonly maxPerPeer: number;
  readonly maxPeers: number;
  readonly pickleKey: PickleKey | undefined;
}

/** Everything a backend is made of; the parts own wasm memory until the backend does. */
export interface BackendParts {
  readonly account: Olm.Account;
  readonly ownDevice: PeerDevice;
  readonly deviceKeys: JsonObject;
  readonly sessions: SessionStore<KeptSession>;
  readonly pickleKey: PickleKey | undefined;
  /** The account's pickle as of now ("" without a pickle key). */
  readonly accountPickle: string;
  /** Whether `accountPickle` is not yet in the store. */
  readonly accountDirty: boolean;
}

export function checkOptions(
  options: LibolmBackendOptions,
): Result<BackendSettings, AccountFailure> {
  const maxPerPeer = options.maxSessionsPerDevice ?? DEFAULT_MAX_SESSIONS_PER_DEVICE;
  if (!Number.isSafeInteger(maxPerPeer) || maxPerPeer < 1) {
    return accountFailure("invalidArgument", "maxSessionsPerDevice must be a positive integer.");
  }
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) {
    return accountFailure("invalidArgument", "maxPeers must be a positive integer.");
  }
  const userId = parseUserId(options.userId);
  const deviceId = parseDeviceId(options.deviceId);
  if (!userId.ok || !deviceId.ok)
    return accountFailure("invalidArgument", "Invalid user or device ID.");
  let pickleKey: PickleKey | undefined;
  if (options.pickleKey !== undefined) {
    const key = PickleKey.from(options.pickleKey);
    if (!key.ok) return key;
    pickleKey = key.value;
  }
  return ok({ userId: userId.value, deviceId: deviceId.value, maxPerPeer, maxPeers, pickleKey });
}

/** A new account (dirty: it is in no store yet). libolm must be loaded. */
export function freshParts(settings: BackendSettings): Result<BackendParts, AccountFailure> {
  let account: Olm.Account | undefined;
  try {
    account = new (olmModule().Account)();
    account.create();
    const accountPickle = settings.pickleKey?.pickle(account) ?? "";
    const parts = partsOf(account, settings, newSessionStore(settings), accountPickle, true);
    if (!parts.ok) account.free();
    return parts;
  } catch (error) {
    account?.free();
    return accountFailure("keyGenerationFailed", describeOlmError(error));
  }
}

/**
 * The account and sessions of a checked stored state, each peer's sessions ranked as stored.
 * Nothing is dirty but the peers the check trimmed. libolm must be loaded.
 */
export function restoredParts(
  settings: BackendSettings & { readonly pickleKey: PickleKey },
  state: CheckedOlmState,
): Result<BackendParts, AccountFailure> {
  const key = settings.pickleKey;
  const account = key.unpickleAccount(state.account);
  if (!account.ok) return account;
  const sessions = newSessionStore(settings);
  const release = <F>(failure: F): F => {
    sessions.freeAll();
    account.value.free();
    return failure;
  };
  try {
    for (const { peer, pickles } of state.peers) {
      // Added worst first, so the stored best gets the highest rank.
      for (const pickle of [...pickles].reverse()) {
        const session = key.unpickleSession(pickle);
        if (!session.ok) return release({ ...session, detail: `Peer ${peer}: ${session.detail}` });
        sessions.add(peer, new KeptSession(session.value, pickle));
      }
    }
    sessions.takeChanged();
    for (const { peer, trimmed } of state.peers) if (trimmed) sessions.markChanged(peer);
    const parts = partsOf(account.value, settings, sessions, state.account, false);
    if (parts.ok) return parts;
    // The pickle opened, so its keys are libolm's own; failing to read them means it is damaged.
    return release(accountFailure("badPickle", `The account pickle: ${parts.detail}`));
  } catch (error) {
    return release(accountFailure("badPickle", describeOlmError(error)));
  }
}

function newSessionStore(settings: BackendSettings): SessionStore<KeptSession> {
  return new SessionStore({
    maxPerPeer: settings.maxPerPeer,
    maxPeers: settings.maxPeers,
    trackChanges: settings.pickleKey !== undefined,
  });
}

function partsOf(
  account: Olm.Account,
  settings: BackendSettings,
  sessions: SessionStore<KeptSession>,
  accountPickle: string,
  accountDirty: boolean,
): Result<BackendParts, AccountFailure> {
  const identity = identityKeysOf(account);
  if (!identity.ok) return identity;
  const ownDevice: PeerDevice = Object.freeze({
    userId: settings.userId,
    deviceId: settings.deviceId,
    ...identity.value,
  });
  const deviceKeys = signedDeviceKeys(account, ownDevice);
  if (!deviceKeys.ok) return deviceKeys;
  return ok({
    account,
    ownDevice,
    deviceKeys: deviceKeys.value,
    sessions,
    pickleKey: settings.pickleKey,
    accountPickle,
    accountDirty,
  });
}
