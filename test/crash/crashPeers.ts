import type { PeerDevice } from "../../src/devices/peerDevice.js";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import { isJsonObject, type JsonObject } from "../../src/events/json.js";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";
import { LibolmBackend } from "../../src/olm/libolmBackend.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { parseKeysClaimResponse } from "../../src/transport/keysClaimResponse.js";
import type { Transport } from "../../src/transport/transport.js";
import { oneTimeKeyOfPreKeyMessage } from "./preKeyMessage.js";

/*
 * Alice's peers: plain libolm accounts in the parent, scripted by the story (they never crash).
 * They publish keys when told, try to reach alice when told (a new session and an m.dummy if
 * they can claim one of her keys, else an m.no_olm, as a client's library would), and decrypt
 * what alice sends them, which is the ground truth for "a new Olm session from alice".
 */

/** What a peer saw of one message from alice. */
export type PeerSaw =
  | {
      readonly kind: "encrypted";
      readonly decrypted: boolean;
      readonly type: string | undefined;
      readonly newSession: boolean;
      /** For a pre-key message: the one-time key of ours it was made with. */
      readonly oneTimeKey: string | undefined;
    }
  | { readonly kind: "withheld"; readonly code: string }
  | { readonly kind: "other"; readonly type: string };

let txnCounter = 0;

export class ScriptedPeer {
  readonly #transport: Transport;

  private constructor(
    private readonly hs: InMemoryHomeserver,
    readonly olm: LibolmBackend,
  ) {
    this.#transport = hs.transportFor(olm.ownDevice.userId, olm.ownDevice.deviceId);
  }

  /** A device with published device keys, no one-time keys and no fallback key. */
  static async create(hs: InMemoryHomeserver, userId: string, deviceId: string) {
    const olm = await LibolmBackend.create({
      userId: userId as UserId,
      deviceId: deviceId as DeviceId,
    });
    if (!olm.ok) throw new Error(`libolm: ${olm.detail}`);
    const peer = new ScriptedPeer(hs, olm.value);
    peer.#upload({ device_keys: olm.value.signedDeviceKeys() });
    return peer;
  }

  get device(): PeerDevice {
    return this.olm.ownDevice;
  }

  uploadOneTimeKeys(count: number): void {
    const keys = this.olm.generateOneTimeKeys(count);
    if (!keys.ok) throw new Error(keys.detail);
    this.#upload({ one_time_keys: keys.value });
  }

  #upload(body: JsonObject): void {
    const { userId, deviceId } = this.device;
    const uploaded = this.hs.uploadKeys(userId, deviceId, body);
    if (!uploaded.ok) throw new Error(`upload refused: ${uploaded.problems.join("; ")}`);
  }

  /**
   * The peer lost its session with alice and needs one: a new session and an m.dummy over it
   * when it can claim one of alice's keys, else the one m.no_olm its library would send.
   */
  async contact(alice: PeerDevice): Promise<"hello" | "notice"> {
    this.olm.forgetSessions(alice);
    const response = await this.#transport.claimKeys({
      one_time_keys: { [alice.userId]: { [alice.deviceId]: "signed_curve25519" } },
    });
    if (!response.ok) throw new Error(`claim failed: ${response.detail}`);
    const claimed = parseKeysClaimResponse(response.value);
    const key = claimed.ok ? claimed.value.keyFor(alice.userId, alice.deviceId) : undefined;
    if (key !== undefined) {
      const created = this.olm.createOutboundSession(alice, key);
      if (!created.ok) throw new Error(`session with alice: ${created.detail}`);
      const dummy = this.olm.encrypt(alice, "m.dummy", {});
      if (!dummy.ok) throw new Error(`encrypt: ${dummy.detail}`);
      await this.#send("m.room.encrypted", alice, dummy.value);
      return "hello";
    }
    const notice = buildNoOlmNotice({
      senderKey: this.device.curve25519,
      fromDevice: this.device.deviceId,
    });
    await this.#send("m.room_key.withheld", alice, notice);
    return "notice";
  }

  async #send(eventType: string, to: PeerDevice, content: JsonObject): Promise<void> {
    txnCounter += 1;
    const sent = await this.#transport.sendToDevice({
      eventType,
      txnId: `peer.${this.device.deviceId}.${txnCounter}`,
      body: { messages: { [to.userId]: { [to.deviceId]: content } } },
    });
    if (!sent.ok) throw new Error(`send refused: ${sent.detail}`);
  }

  /** Drains the peer's inbox; what came from alice, decrypted with the peer's real libolm. */
  sync(alice: PeerDevice): PeerSaw[] {
    const seen: PeerSaw[] = [];
    const { userId, deviceId, curve25519 } = this.device;
    for (const event of this.hs.sync(userId, deviceId)) {
      if (event.sender !== alice.userId) continue;
      if (event.type === "m.room_key.withheld") {
        seen.push({ kind: "withheld", code: String(event.content.code) });
        continue;
      }
      if (event.type !== "m.room.encrypted") {
        seen.push({ kind: "other", type: event.type });
        continue;
      }
      const ciphertext = event.content.ciphertext;
      const ours =
        ciphertext !== undefined && isJsonObject(ciphertext) ? ciphertext[curve25519] : undefined;
      const preKey =
        ours !== undefined && isJsonObject(ours) && ours.type === 0 && typeof ours.body === "string"
          ? oneTimeKeyOfPreKeyMessage(ours.body)
          : undefined;
      const decrypted = this.olm.decrypt(alice, event.content);
      seen.push({
        kind: "encrypted",
        decrypted: decrypted.ok,
        type: decrypted.ok ? decrypted.value.type : undefined,
        newSession: decrypted.ok && decrypted.value.newSession,
        oneTimeKey: preKey,
      });
    }
    return seen;
  }

  dispose(): void {
    this.olm.dispose();
  }
}

/** Claims every one-time key `target` has left, as other devices would: it is out of keys. */
export async function drainOneTimeKeys(
  hs: InMemoryHomeserver,
  drainer: Transport,
  target: { readonly userId: string; readonly deviceId: string },
): Promise<number> {
  let drained = 0;
  while (hs.oneTimeKeyCount(target.userId, target.deviceId, "signed_curve25519") > 0) {
    const response = await drainer.claimKeys({
      one_time_keys: {
        [target.userId as UserId]: { [target.deviceId as DeviceId]: "signed_curve25519" },
      },
    });
    if (!response.ok) throw new Error(`drain failed: ${response.detail}`);
    drained += 1;
  }
  return drained;
}
