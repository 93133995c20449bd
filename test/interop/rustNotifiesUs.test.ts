import { ProcessedToDeviceEventType, RoomId } from "@matrix-org/matrix-sdk-crypto-wasm";
import Olm from "@matrix-org/olm";
import { afterEach, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { SessionId } from "../../src/events/matrixIds.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { type InteropWorld, MINUTE, makeInteropWorld, ROOM } from "./interopWorld.js";

let world: InteropWorld | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const kinds = (processed: Awaited<ReturnType<InteropWorld["rust"]["sync"]>>) =>
  processed.map((p) => [p.type, (JSON.parse(p.rawEvent) as { type?: string }).type]);

/*
 * A matrix-rust-sdk device (its crypto crate in wasm) cannot reach our device (real libolm + this
 * library; no one-time keys, no fallback key). Its m.no_olm, our answer, and the room key and
 * Megolm message that follow, over the spec-checking homeserver double.
 */

describe("a rust device (matrix-sdk-crypto-wasm) notifies us", () => {
  it("m.no_olm → our m.dummy → rust's next share reaches us; the earlier UTD is explained", async () => {
    const replied: { device: PeerDevice; noticeReceivedAt: number | null }[] = [];
    world = await makeInteropWorld({
      ourOneTimeKeys: 0,
      hooks: { onRepliedToNotice: (e) => replied.push(e) },
    });
    const { hs, clock, us, rust, rustDevice } = world;

    // Rust shares a room key: we have no one-time key and no fallback key → rust's m.no_olm.
    await rust.shareRoomKey(ROOM, [us.device.userId]);
    expect(rust.sentTo("m.room.encrypted", us.device.userId, us.device.deviceId)).toEqual([]);
    expect(rust.sentTo("m.room_key.withheld", us.device.userId, us.device.deviceId)).toEqual([
      {
        algorithm: "m.megolm.v1.aes-sha2",
        code: "m.no_olm",
        reason: expect.any(String),
        sender_key: rust.curve25519,
        from_device: rust.deviceId,
      },
    ]);
    const early = await rust.encryptRoomMessage(ROOM, "sent before the notice");
    const earlySentAt = clock.now;

    // Our coordinator believes it (rust owns the key), claims one of rust's keys, answers.
    clock.now += MINUTE;
    const results = await us.sync();
    expect(results).toMatchObject([{ kind: "noOlmNotice", reply: "newSession" }]);
    expect(hs.claims.map((c) => [c.claimer.userId, c.target.userId, c.fallback])).toEqual([
      [us.device.userId, rust.userId, false],
    ]);
    expect(replied).toMatchObject([{ device: rustDevice, noticeReceivedAt: clock.now }]);
    // The message rust sent before its notice is explained as m.no_olm.
    expect(
      us.kw.explainUndecryptable({
        sender: rustDevice.userId,
        senderKey: rustDevice.curve25519,
        roomId: ROOM,
        sessionId: early.session_id as SessionId,
        originServerTs: earlySentAt,
      }),
    ).toMatchObject({ kind: "explained", code: "m.no_olm", source: "noOlmNotice" });

    // Rust decrypts our Olm-encrypted m.dummy (a pre-key message): no UTD.
    clock.now += MINUTE;
    expect(kinds(await rust.sync())).toEqual([[ProcessedToDeviceEventType.Decrypted, "m.dummy"]]);

    // Rust's next share goes over that session; we decrypt the key and a later message.
    await rust.shareRoomKey(ROOM, [us.device.userId]);
    const late = await rust.encryptRoomMessage(ROOM, "sent after the session");
    const delivered = await us.sync();
    expect(delivered).toMatchObject([
      { kind: "decrypted", type: "m.room_key", content: { session_id: early.session_id } },
    ]);
    expect(peerLeaves(us.stateOf(rustDevice).value).olm).toBe("established");
    expect(us.decryptRoomMessage(late)).toEqual({ ok: true, body: "sent after the session" });
    // Rust shares from the session's current index: the early message stays unreadable.
    expect(() => us.decryptRoomMessage(early)).toThrow(/UNKNOWN_MESSAGE_INDEX/);

    // What onRepliedToNotice asks for: a key request for the early message's session.
    // Finding (matrix-sdk-crypto-wasm 18.9): rust answers a request from another user's device
    // with an Olm-encrypted m.forwarded_room_key, but only from the index it had shared with that
    // device (1 here, as rust's outbound session tracks), so it never reveals the message sent
    // while we were unreachable; the early message stays undecryptable, and m.no_olm remains
    // the right explanation for it.
    await us.sendRaw(
      "m.room_key_request",
      rustDevice,
      {
        action: "request",
        body: {
          algorithm: "m.megolm.v1.aes-sha2",
          room_id: ROOM,
          sender_key: rust.curve25519,
          session_id: String(early.session_id),
        },
        request_id: "interop-request-1",
        requesting_device_id: us.device.deviceId,
      },
      "interop-kr-1",
    );
    expect(kinds(await rust.sync())).toEqual([
      [ProcessedToDeviceEventType.PlainText, "m.room_key_request"],
    ]);
    const [forwarded] = await us.sync();
    expect(forwarded).toMatchObject({ kind: "decrypted", type: "m.forwarded_room_key" });
    const key = forwarded?.kind === "decrypted" ? (forwarded.content as JsonObject) : {};
    expect(key.session_id).toBe(early.session_id);
    const inbound = new Olm.InboundGroupSession();
    try {
      inbound.import_session(String(key.session_key));
      expect(inbound.first_known_index()).toBe(1);
      expect(() => inbound.decrypt(String(early.ciphertext))).toThrow(/UNKNOWN_MESSAGE_INDEX/);
    } finally {
      inbound.free();
    }
    expect(
      us.kw.explainUndecryptable({
        sender: rustDevice.userId,
        senderKey: rustDevice.curve25519,
        roomId: ROOM,
        sessionId: early.session_id as SessionId,
        originServerTs: earlySentAt,
      }),
    ).toMatchObject({ kind: "explained", code: "m.no_olm" });
  });

  it("rust sends one m.no_olm per device, not per room or Megolm session", async () => {
    world = await makeInteropWorld({ ourOneTimeKeys: 0 });
    const { us, rust } = world;
    await rust.shareRoomKey(ROOM, [us.device.userId]);
    await rust.shareRoomKey("!second:example.org", [us.device.userId]);
    await rust.machine.invalidateGroupSession(new RoomId(ROOM));
    await rust.shareRoomKey(ROOM, [us.device.userId]);
    expect(rust.sentTo("m.room_key.withheld", us.device.userId, us.device.deviceId)).toHaveLength(
      1,
    );
    // Our side answers the one notice once.
    expect(await us.sync()).toMatchObject([{ kind: "noOlmNotice", reply: "newSession" }]);
  });
});
