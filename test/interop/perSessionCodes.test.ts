import {
  CollectStrategy,
  DeviceId,
  LocalTrust,
  ProcessedToDeviceEventType,
  UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm";
import { afterEach, describe, expect, it } from "vitest";
import type { RoomId, SessionId } from "../../src/events/matrixIds.js";
import { type InteropWorld, MINUTE, makeInteropWorld, ROOM } from "./interopWorld.js";

const OTHER_ROOM = "!other:example.org" as RoomId;

let world: InteropWorld | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

/*
 * Per-session codes both ways: our withholdSessions notices as rust parses them (its withheld
 * callback and its own UTD errors), and rust's own withheld notices (only-trusted-devices sharing,
 * a blacklisted device) as our explainUndecryptable explains its messages.
 */

describe("per-session withheld codes between us and a rust device (matrix-sdk-crypto-wasm)", () => {
  it("our m.unverified and m.blacklisted notices are parsed by rust and reach its withheld callback", async () => {
    world = await makeInteropWorld({ ourOneTimeKeys: 5 });
    const { us, rust, rustDevice } = world;
    const first = us.encryptRoomMessage(ROOM, "not for an unverified device");
    const second = us.encryptRoomMessage(OTHER_ROOM, "not for a blacklisted device");
    const report = await us.kw.withholdSessions([
      {
        device: rustDevice,
        code: "m.unverified",
        roomId: ROOM,
        sessionId: first.session_id as SessionId,
      },
      {
        device: rustDevice,
        code: "m.blacklisted",
        roomId: OTHER_ROOM,
        sessionId: second.session_id as SessionId,
      },
    ]);
    expect(report.refused).toEqual([]);
    const processed = await rust.sync();
    expect(processed.map((p) => [p.type, JSON.parse(p.rawEvent).content.code])).toEqual([
      [ProcessedToDeviceEventType.PlainText, "m.unverified"],
      [ProcessedToDeviceEventType.PlainText, "m.blacklisted"],
    ]);
    expect(rust.withheldSeen).toEqual([
      { code: "m.unverified", roomId: ROOM, sessionId: first.session_id },
      { code: "m.blacklisted", roomId: OTHER_ROOM, sessionId: second.session_id },
    ]);
    // Rust's own UTD for our messages carries the code it parsed.
    expect(await rust.decryptRoomMessage(ROOM, first, us.device.userId)).toMatchObject({
      ok: false,
      withheldCode: "m.unverified",
    });
    expect(await rust.decryptRoomMessage(OTHER_ROOM, second, us.device.userId)).toMatchObject({
      ok: false,
      withheldCode: "m.blacklisted",
    });
    // Asking again sends nothing: one notice per device and session.
    const again = await us.kw.withholdSessions([
      {
        device: rustDevice,
        code: "m.unverified",
        roomId: ROOM,
        sessionId: first.session_id as SessionId,
      },
    ]);
    expect(again.requests).toEqual([]);
    expect(await rust.sync()).toEqual([]);
  });

  it("rust's m.unverified and m.blacklisted notices explain its messages to us", async () => {
    world = await makeInteropWorld({ ourOneTimeKeys: 5 });
    const { clock, us, rust, rustDevice } = world;
    // Only trusted devices: our (unverified) device gets m.unverified for ROOM.
    await rust.shareRoomKey(ROOM, [us.device.userId], () => CollectStrategy.onlyTrustedDevices());
    const unverified = await rust.encryptRoomMessage(ROOM, "for trusted devices only");
    // Our device blacklisted in rust: m.blacklisted for OTHER_ROOM.
    const ours = await rust.machine.getDevice(
      new UserId(us.device.userId),
      new DeviceId(us.device.deviceId),
    );
    await ours?.setLocalTrust(LocalTrust.BlackListed);
    await rust.shareRoomKey(OTHER_ROOM, [us.device.userId]);
    const blacklisted = await rust.encryptRoomMessage(OTHER_ROOM, "not for a blacklisted device");
    const codes = rust
      .sentTo("m.room_key.withheld", us.device.userId, us.device.deviceId)
      .map((c) => c.code);
    expect(codes).toEqual(["m.unverified", "m.blacklisted"]);
    expect(rust.sentTo("m.room.encrypted", us.device.userId, us.device.deviceId)).toEqual([]);
    clock.now += MINUTE;
    const results = await us.sync();
    expect(results).toMatchObject([
      { kind: "sessionWithheld", content: { code: "m.unverified", roomId: ROOM } },
      { kind: "sessionWithheld", content: { code: "m.blacklisted", roomId: OTHER_ROOM } },
    ]);
    const cases = [
      [ROOM, unverified, "m.unverified"],
      [OTHER_ROOM, blacklisted, "m.blacklisted"],
    ] as const;
    for (const [roomId, content, code] of cases) {
      expect(us.decryptRoomMessage(content)).toEqual({ ok: false, why: "no room key" });
      const why = us.kw.explainUndecryptable({
        sender: rustDevice.userId,
        senderKey: rustDevice.curve25519,
        roomId,
        sessionId: content.session_id as SessionId,
        originServerTs: clock.now,
      });
      expect(why).toMatchObject({ kind: "explained", code, source: "sessionNotice" });
    }
  });
});
