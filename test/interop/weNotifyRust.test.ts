import { ProcessedToDeviceEventType } from "@matrix-org/matrix-sdk-crypto-wasm";
import { afterEach, describe, expect, it } from "vitest";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import {
  drainOneTimeKeys,
  HOUR,
  type InteropWorld,
  MINUTE,
  makeInteropWorld,
  ROOM,
} from "./interopWorld.js";

let world: InteropWorld | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const noticesToRust = (w: InteropWorld) =>
  w.hs.deliveries.filter(
    (m) =>
      m.eventType === "m.room_key.withheld" &&
      m.recipient.userId === w.rust.userId &&
      m.content.code === "m.no_olm",
  );

/*
 * Our device (real libolm + this library) cannot reach a matrix-rust-sdk device (its crypto crate in
 * wasm), which uploaded no one-time keys. Everything crosses the spec-checking homeserver double;
 * `close()` asserts it recorded no violation.
 */

describe("we notify a rust device (matrix-sdk-crypto-wasm)", () => {
  it("one m.no_olm per episode, accepted by rust; after it replenishes, rust reads our room key and message", async () => {
    world = await makeInteropWorld({ ourOneTimeKeys: 5, rust: { dropOneTimeKeys: true } });
    const { hs, clock, us, rust, rustDevice } = world;
    expect(hs.oneTimeKeyCount(rust.userId, rust.deviceId)).toBe(0);

    for (let attempt = 0; attempt < 5; attempt++) {
      clock.now += MINUTE;
      const [outcome] = await us.shareRoomKey(ROOM, [rustDevice]);
      // R5: after the first failure some shares skip the claim (backing off); none succeeds.
      expect(attempt === 0 ? ["failed"] : ["failed", "backingOff"]).toContain(outcome?.outcome);
    }
    const notices = noticesToRust(world);
    expect(notices.map((n) => n.content)).toEqual([
      {
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: us.device.curve25519,
        code: "m.no_olm",
        reason: "Unable to establish a secure channel.",
        from_device: us.device.deviceId,
      },
    ]);

    // Rust parses it: a plain-text to-device event, not an error, nothing undecryptable. m.no_olm
    // names no Megolm session, so rust's withheld-session callback stays silent (rust keeps no
    // per-device no_olm state it exposes).
    rust.dropOneTimeKeys = false;
    const processed = await rust.sync();
    expect(processed.map((p) => [p.type, JSON.parse(p.rawEvent).type])).toEqual([
      [ProcessedToDeviceEventType.PlainText, "m.room_key.withheld"],
    ]);
    expect(rust.withheldSeen).toEqual([]);
    // Finding: rust does not answer an m.no_olm (no claim of our keys, no m.dummy, nothing sent).
    expect(rust.sent).toEqual([]);
    expect(hs.claims.filter((c) => c.claimer.userId === rust.userId)).toEqual([]);
    // That sync told rust the server holds none of its one-time keys: it uploaded fresh ones.
    expect(hs.oneTimeKeyCount(rust.userId, rust.deviceId)).toBeGreaterThan(0);

    // Our next share succeeds: rust decrypts our m.room_key and a Megolm message with it.
    clock.now += MINUTE;
    const message = us.encryptRoomMessage(ROOM, "hello rust");
    const [outcome] = await us.shareRoomKey(ROOM, [rustDevice]);
    expect(outcome?.outcome).toBe("established");
    expect(peerLeaves(us.stateOf(rustDevice).value).olm).toBe("established");
    const delivered = await rust.sync();
    expect(delivered.map((p) => [p.type, JSON.parse(p.rawEvent).type])).toEqual([
      [ProcessedToDeviceEventType.Decrypted, "m.room_key"],
    ]);
    expect(await rust.decryptRoomMessage(ROOM, message, us.device.userId)).toEqual({
      ok: true,
      body: "hello rust",
    });

    // A later episode: our session is gone (corrupted) and rust has no keys again → one more.
    clock.now += 2 * HOUR;
    expect(us.olm.forgetSessions(rustDevice)).toBe(1);
    rust.dropOneTimeKeys = true;
    await drainOneTimeKeys(world);
    for (let attempt = 0; attempt < 5; attempt++) {
      clock.now += MINUTE;
      const [again] = await us.shareRoomKey(ROOM, [rustDevice]);
      expect(attempt === 0 ? ["failed"] : ["failed", "backingOff"]).toContain(again?.outcome);
    }
    expect(noticesToRust(world)).toHaveLength(2);
    const second = await rust.sync();
    expect(second.map((p) => p.type)).toEqual([ProcessedToDeviceEventType.PlainText]);
  });
});
