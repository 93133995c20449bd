import type Olm from "@matrix-org/olm";
import { type KeyWithholding, openKeyWithholding } from "../../coordinator/keyWithholding.js";
import type {
  EstablishOutcome,
  IncomingResult,
  KeyWithholdingHooks,
} from "../../coordinator/keyWithholdingTypes.js";
import type { Clock } from "../../coordinator/protocolClock.js";
import { DeviceList } from "../../devices/deviceList.js";
import type { PeerDevice } from "../../devices/peerDevice.js";
import { isJsonObject, type JsonObject } from "../../events/json.js";
import {
  type DeviceId,
  parseCurve25519PublicKey,
  parseEd25519PublicKey,
  type RoomId,
  type UserId,
} from "../../events/matrixIds.js";
import type { PeerSnapshot } from "../../machine/peerSnapshot.js";
import { LibolmBackend } from "../../olm/libolmBackend.js";
import { olmModule } from "../../olm/olmModule.js";
import { verifyJsonSignature } from "../../olm/signedJson.js";
import type { LibolmLoadOptions } from "../../olm/wasmSource.js";
import { InMemoryStore } from "../../store/inMemoryStore.js";
import type { KeyWithholdingStore } from "../../store/keyWithholdingStore.js";
import type { Transport } from "../../transport/transport.js";
import type { InMemoryHomeserver } from "../homeserver/index.js";

/*
 * A client device for end-to-end tests and the demo: a real libolm account and real Megolm
 * sessions, this library embedded in its crypto layer, and the in-memory homeserver as its only
 * network. It plays what a client does around the library: share room keys, process /sync, and
 * re-share what was withheld when the library says a device is reachable again.
 */

/** What {@link SimulatedDevice.create} takes. */
export interface SimulatedDeviceOptions {
  /** The homeserver double: the device's only network. */
  readonly hs: InMemoryHomeserver;
  /** The device's user id, e.g. `@alice:example.org` (not checked). */
  readonly userId: string;
  /** The device's device id (not checked). */
  readonly deviceId: string;
  /** One-time keys to generate and upload at creation (0: none, so claims for it fail). */
  readonly oneTimeKeys: number;
  /**
   * The library's clocks (`KeyWithholdingOptions.clock`): a `Clock`, or one function in ms
   * serving as both, for a simulation that drives time by hand.
   */
  readonly clock: Clock | (() => number);
  /** Extra hooks (e.g. the demo's timeline); they run before the device's own re-sharing. */
  readonly hooks?: KeyWithholdingHooks;
  /** Puts a hostile or flaky layer between the library and the homeserver double. */
  readonly wrapTransport?: (transport: Transport) => Transport;
  /** What survives `restart()`. Default: a fresh in-memory store. */
  readonly store?: KeyWithholdingStore;
  /** The library's `callTimeoutMs`, in ms. Default: the library's (30 000). */
  readonly callTimeoutMs?: number;
  /**
   * With a pickle key, the Olm account and sessions live in the store too (LibolmBackend.open),
   * and `restart()` opens them again from it, as a new process would.
   */
  readonly pickleKey?: Uint8Array;
  /**
   * Where libolm's wasm comes from (`wasmUrl` or `wasmBinary`), for the first device to load it.
   * Needed in a browser, where libolm's own default (`olm.wasm` beside the page) rarely exists.
   */
  readonly libolm?: LibolmLoadOptions;
}

interface RoomSession {
  readonly outbound: Olm.OutboundGroupSession;
  /** The key at index 0, so a late share still opens every message of the session. */
  readonly firstKey: string;
  /** Devices that have the key. */
  readonly sharedWith: Set<string>;
}

let txnCounter = 0;

/**
 * A client device for end-to-end tests: a real libolm account and Megolm sessions, the library
 * embedded in its crypto layer, the homeserver double as its network. It shares room keys,
 * processes /sync, and re-shares withheld keys when the library reports a device reachable.
 * Make one with {@link SimulatedDevice.create}; call `dispose()` when done (libolm memory).
 */
export class SimulatedDevice {
  /** The device list the library reads; {@link SimulatedDevice.refreshDevices} fills it. */
  readonly directory = new DeviceList();
  /** The library's coordinator on this device; replaced by `restart()`. */
  kw!: KeyWithholding;
  readonly #rooms = new Map<RoomId, RoomSession>();
  readonly #inbound = new Map<string, Olm.InboundGroupSession>();
  readonly #transport: Transport;
  #store: KeyWithholdingStore;

  #olm: LibolmBackend;

  private constructor(
    olm: LibolmBackend,
    private readonly options: SimulatedDeviceOptions,
  ) {
    this.#olm = olm;
    this.#transport = options.hs.transportFor(options.userId, options.deviceId);
    this.#store = options.store ?? new InMemoryStore();
  }

  /**
   * A new coordinator over the same Olm account, device list and store, as after the client's
   * process restarted (what the store holds survives: peer states, the outbox, notices). The
   * previous coordinator is stopped first; `forgetStore` starts over from an empty store.
   */
  async restart(options: { readonly forgetStore?: boolean } = {}): Promise<void> {
    await this.kw.stop();
    if (options.forgetStore === true) this.#store = new InMemoryStore();
    await this.#reopenOlm();
    this.kw = await this.#startCoordinator();
  }

  /** The device's libolm account (replaced by a restart when `pickleKey` is set). */
  get olm(): LibolmBackend {
    return this.#olm;
  }

  /** A durable device's new process reads its Olm account back; the old objects are gone. */
  async #reopenOlm(): Promise<void> {
    const { pickleKey } = this.options;
    if (pickleKey === undefined) return;
    this.#olm.dispose();
    const opened = await LibolmBackend.open({
      ...this.options.libolm,
      userId: this.options.userId as UserId,
      deviceId: this.options.deviceId as DeviceId,
      pickleKey: pickleKey.slice(),
      store: this.#store,
    });
    if (!opened.ok) throw new Error(`LibolmBackend.open: ${opened.detail}`);
    this.#olm = opened.value;
  }

  /** A restart over another store (one that lost part of what was committed, say). */
  async restartOver(store: KeyWithholdingStore): Promise<void> {
    await this.kw.stop();
    this.#store = store;
    await this.#reopenOlm();
    this.kw = await this.#startCoordinator();
  }

  /** The store the current coordinator uses. */
  get store(): KeyWithholdingStore {
    return this.#store;
  }

  async #startCoordinator(): Promise<KeyWithholding> {
    const options = this.options;
    const extra = options.hooks ?? {};
    const created = await openKeyWithholding({
      olm: this.olm,
      transport: options.wrapTransport?.(this.#transport) ?? this.#transport,
      devices: this.directory,
      clock: options.clock,
      store: this.#store,
      ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
      hooks: {
        ...extra,
        onPeerReachable: async (event) => {
          await extra.onPeerReachable?.(event);
          await this.reshareWithheld(event.device);
        },
      },
    });
    if (!created.ok) throw new Error(`openKeyWithholding refused: ${created.detail}`);
    return created.value;
  }

  /**
   * Creates the libolm account (opened from `store` if a `pickleKey` is given too), starts the
   * coordinator, and uploads the device keys and `oneTimeKeys` one-time keys to `hs`. Throws if
   * libolm, the coordinator or the upload refuses.
   */
  static async create(options: SimulatedDeviceOptions): Promise<SimulatedDevice> {
    const account = {
      ...options.libolm,
      userId: options.userId as UserId,
      deviceId: options.deviceId as DeviceId,
    };
    const olm =
      options.pickleKey === undefined || options.store === undefined
        ? await LibolmBackend.create(account)
        : await LibolmBackend.open({
            ...account,
            pickleKey: options.pickleKey.slice(),
            store: options.store,
          });
    if (!olm.ok) throw new Error(`libolm: ${olm.detail}`);
    const device = new SimulatedDevice(olm.value, options);
    device.kw = await device.#startCoordinator();
    device.upload({ device_keys: olm.value.signedDeviceKeys() });
    device.uploadOneTimeKeys(options.oneTimeKeys);
    return device;
  }

  /** This device as its peers see it: user id, device id and identity keys. */
  get device(): PeerDevice {
    return this.olm.ownDevice;
  }

  /** `userId/deviceId`, for messages. */
  get name(): string {
    return `${this.options.userId}/${this.options.deviceId}`;
  }

  /** Generates `count` more one-time keys and uploads them (0: does nothing). Throws if refused. */
  uploadOneTimeKeys(count: number): void {
    if (count === 0) return;
    const keys = this.olm.generateOneTimeKeys(count);
    if (!keys.ok) throw new Error(keys.detail);
    this.upload({ one_time_keys: keys.value });
  }

  private upload(body: JsonObject): void {
    const uploaded = this.options.hs.uploadKeys(this.options.userId, this.options.deviceId, body);
    if (!uploaded.ok) throw new Error(`upload refused: ${uploaded.problems.join("; ")}`);
  }

  /** /keys/query for these users; keeps only devices whose self-signature verifies. */
  refreshDevices(userIds: readonly string[]): void {
    const response = this.options.hs.queryKeys(userIds);
    for (const devices of Object.values(response.device_keys)) {
      for (const keys of Object.values(devices)) {
        const device = deviceFromKeys(keys);
        if (device !== undefined) this.directory.set(device);
      }
    }
  }

  /** Starts a Megolm session for the room and returns an encrypted room message. */
  encryptRoomMessage(roomId: RoomId, body: string): JsonObject {
    const room = this.#room(roomId);
    const ciphertext = room.outbound.encrypt(
      JSON.stringify({
        type: "m.room.message",
        content: { msgtype: "m.text", body },
        room_id: roomId,
      }),
    );
    return {
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: this.device.curve25519,
      session_id: room.outbound.session_id(),
      ciphertext,
    };
  }

  /**
   * Shares the room's key with the devices: the library makes sure Olm sessions exist (and
   * sends m.no_olm where it cannot); the key goes to every device that has a session.
   */
  async shareRoomKey(
    roomId: RoomId,
    devices: readonly PeerDevice[],
  ): Promise<readonly EstablishOutcome[]> {
    const outcomes = await this.kw.establishSessions(devices);
    const reachable = outcomes.flatMap((o) =>
      o.outcome === "existing" || o.outcome === "established" ? [o.device] : [],
    );
    await this.#sendRoomKey(roomId, reachable);
    return outcomes;
  }

  /** This device's machine state for a peer (the peer must be a valid device). */
  stateOf(peer: PeerDevice): PeerSnapshot {
    const state = this.kw.peerState(peer);
    if (!state.ok) throw new Error(`peerState refused: ${state.detail}`);
    return state.value;
  }

  /** The recovery hook: give a device that became reachable every key it is missing. */
  async reshareWithheld(device: PeerDevice): Promise<void> {
    for (const roomId of this.#rooms.keys()) await this.#sendRoomKey(roomId, [device]);
  }

  async #sendRoomKey(roomId: RoomId, devices: readonly PeerDevice[]): Promise<void> {
    const room = this.#room(roomId);
    const messages: Record<string, Record<string, JsonObject>> = {};
    for (const device of devices) {
      const id = `${device.userId}|${device.deviceId}`;
      if (room.sharedWith.has(id)) continue;
      const encrypted = this.olm.encrypt(device, "m.room_key", {
        algorithm: "m.megolm.v1.aes-sha2",
        room_id: roomId,
        session_id: room.outbound.session_id(),
        session_key: room.firstKey,
      });
      if (!encrypted.ok) continue;
      room.sharedWith.add(id);
      const forUser = messages[device.userId] ?? {};
      forUser[device.deviceId] = encrypted.value;
      messages[device.userId] = forUser;
    }
    if (Object.keys(messages).length === 0) return;
    txnCounter += 1;
    await this.#transport.sendToDevice({
      eventType: "m.room.encrypted",
      txnId: `client.${txnCounter}`,
      body: { messages: messages as never },
    });
  }

  /** Sends one raw to-device message, as any client (or an attacker's) could. */
  async sendRaw(
    eventType: string,
    to: PeerDevice,
    content: JsonObject,
    txnId: string,
  ): Promise<void> {
    const sent = await this.#transport.sendToDevice({
      eventType,
      txnId,
      body: { messages: { [to.userId]: { [to.deviceId]: content } } as never },
    });
    if (!sent.ok) throw new Error(`send refused: ${sent.detail}`);
  }

  /** Processes this device's /sync to-device events through the library. */
  async sync(): Promise<IncomingResult[]> {
    const results: IncomingResult[] = [];
    for (const event of this.options.hs.sync(this.options.userId, this.options.deviceId)) {
      const result = await this.kw.handleToDeviceEvent(event);
      if (result.kind === "decrypted" && result.type === "m.room_key")
        this.#importRoomKey(result.content);
      results.push(result);
    }
    return results;
  }

  /** For a delivery layer of its own (robustness tests): imports a decrypted m.room_key. */
  importRoomKeyForTest(content: JsonObject): void {
    this.#importRoomKey(content);
  }

  #importRoomKey(content: JsonObject): void {
    const sessionId = content.session_id;
    const sessionKey = content.session_key;
    if (typeof sessionId !== "string" || typeof sessionKey !== "string") return;
    // libolm as the backend loaded it: no second import, which in a browser would set window.Olm.
    const inbound = new (olmModule().InboundGroupSession)();
    inbound.create(sessionKey);
    this.#inbound.get(sessionId)?.free();
    this.#inbound.set(sessionId, inbound);
  }

  /** Decrypts a room message, or says why not. */
  decryptRoomMessage(content: JsonObject): { ok: true; body: string } | { ok: false; why: string } {
    const sessionId = content.session_id;
    const inbound = typeof sessionId === "string" ? this.#inbound.get(sessionId) : undefined;
    if (inbound === undefined || typeof content.ciphertext !== "string") {
      return { ok: false, why: "no room key" };
    }
    const event = JSON.parse(inbound.decrypt(content.ciphertext).plaintext) as {
      content?: { body?: unknown };
    };
    const body = event.content?.body;
    return typeof body === "string" ? { ok: true, body } : { ok: false, why: "no body" };
  }

  #room(roomId: RoomId): RoomSession {
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      const outbound = new (olmModule().OutboundGroupSession)();
      outbound.create();
      room = { outbound, firstKey: outbound.session_key(), sharedWith: new Set() };
      this.#rooms.set(roomId, room);
    }
    return room;
  }

  /** Frees the Megolm sessions and the libolm account; the device is unusable afterwards. */
  dispose(): void {
    for (const room of this.#rooms.values()) room.outbound.free();
    for (const inbound of this.#inbound.values()) inbound.free();
    this.olm.dispose();
  }
}

/** A device from a /keys/query entry, if its keys parse and its self-signature verifies. */
function deviceFromKeys(keys: JsonObject): PeerDevice | undefined {
  const userId = keys.user_id;
  const deviceId = keys.device_id;
  const map = keys.keys;
  if (typeof userId !== "string" || typeof deviceId !== "string") return undefined;
  if (map === undefined || !isJsonObject(map)) return undefined;
  const curve = parseCurve25519PublicKey(map[`curve25519:${deviceId}`]);
  const ed = parseEd25519PublicKey(map[`ed25519:${deviceId}`]);
  if (!curve.ok || !ed.ok) return undefined;
  if (!verifyJsonSignature(keys, userId, deviceId, ed.value).ok) return undefined;
  return {
    userId: userId as UserId,
    deviceId: deviceId as DeviceId,
    curve25519: curve.value,
    ed25519: ed.value,
  };
}
