/*
 * A client's own glue, as an integrator would write it: its device list, its room-key
 * sharing, its /sync loop, with matrix-key-withholding embedded. In a client project the
 * imports would be `from "matrix-key-withholding"`; here they point at the sources.
 */

import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import { createKeyWithholding, DeviceList, type KeyWithholding } from "../../src/index.js";
import type { GlueEnvironment, GlueUnderTest, ToDeviceEvent } from "../../src/testing/index.js";

const ROOM_KEY = {
  algorithm: "m.megolm.v1.aes-sha2",
  room_id: "!room:ours.example",
  session_id: "example-session",
  session_key: "example-session-key",
};

export class RoomKeySharer implements GlueUnderTest {
  readonly #env: GlueEnvironment;
  readonly #withholding: KeyWithholding;
  /** Devices that already have the room key (ours to track, not the library's). */
  readonly #hasKey = new Set<string>();
  #txn = 0;

  private constructor(env: GlueEnvironment, withholding: KeyWithholding) {
    this.#env = env;
    this.#withholding = withholding;
  }

  static async create(env: GlueEnvironment): Promise<RoomKeySharer> {
    const devices = new DeviceList(env.peers);
    let sharer: RoomKeySharer | undefined;
    const created = createKeyWithholding({
      olm: env.olm,
      transport: env.transport,
      devices,
      clock: env.now,
      hooks: {
        // A device we withheld the key from is reachable again: give it the key after all.
        onPeerReachable: ({ device }) => sharer?.reshare(device),
      },
    });
    if (!created.ok) throw new Error(`${created.path.join(".")}: ${created.detail}`);
    sharer = new RoomKeySharer(env, created.value);
    return sharer;
  }

  async shareRoomKey(devices: readonly PeerDevice[]): Promise<void> {
    const outcomes = await this.#withholding.establishSessions(devices);
    const reachable = outcomes.flatMap((o) =>
      o.outcome === "existing" || o.outcome === "established" ? [o.device] : [],
    );
    await this.#sendRoomKey(reachable);
  }

  /** The recovery hook's work: the room key for a device that is reachable again. */
  reshare(device: PeerDevice): Promise<void> {
    return this.#sendRoomKey([device]);
  }

  async receiveToDevice(events: readonly ToDeviceEvent[]): Promise<void> {
    for (const event of events) await this.#withholding.handleToDeviceEvent(event);
  }

  async retry(): Promise<void> {
    await this.#withholding.flush();
  }

  async close(): Promise<void> {
    await this.#withholding.stop();
  }

  async #sendRoomKey(devices: readonly PeerDevice[]): Promise<void> {
    const messages: Record<string, Record<string, JsonObject>> = {};
    for (const device of devices) {
      const id = JSON.stringify([device.userId, device.deviceId, device.curve25519]);
      if (this.#hasKey.has(id)) continue;
      const encrypted = this.#env.olm.encrypt(device, "m.room_key", ROOM_KEY);
      if (!encrypted.ok) continue;
      this.#hasKey.add(id);
      messages[device.userId] = { ...messages[device.userId], [device.deviceId]: encrypted.value };
    }
    if (Object.keys(messages).length === 0) return;
    this.#txn += 1;
    await this.#env.transport.sendToDevice({
      eventType: "m.room.encrypted",
      txnId: `roomkey.${this.#txn}`,
      body: { messages },
    });
  }
}
