import { ProcessedToDeviceEventType } from "@matrix-org/matrix-sdk-crypto-wasm";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/events/json.js";
import type { Transport } from "../../src/transport/transport.js";
import { drainOneTimeKeys, type InteropWorld, makeInteropWorld, ROOM } from "./interopWorld.js";

let world: InteropWorld | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const noticesToRust = (w: InteropWorld) =>
  w.hs.deliveries.filter(
    (m) => m.eventType === "m.room_key.withheld" && m.recipient.userId === w.rust.userId,
  );

/** Flips one character of every signature in a /keys/claim response. */
function tamperSignatures(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(tamperSignatures);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, JsonValue> = {};
  for (const [name, inner] of Object.entries(value)) {
    if (name === "signatures" && inner !== null && typeof inner === "object") {
      out[name] = JSON.parse(
        JSON.stringify(inner).replace(
          /"(ed25519:[^"]+)":"(.)/g,
          (_m, id: string, c: string) => `"${id}":"${c === "A" ? "B" : "A"}`,
        ),
      ) as JsonValue;
    } else out[name] = tamperSignatures(inner);
  }
  return out;
}

/*
 * Which of a rust device's published keys our side must use: its fallback key when no one-time key
 * is left (a session, no notice), never a key whose signature does not verify (one m.no_olm).
 */

describe("keys from a rust device (matrix-sdk-crypto-wasm) we must accept or refuse", () => {
  it("only rust's fallback key left → a session with it, no notice, rust decrypts our key", async () => {
    world = await makeInteropWorld({ ourOneTimeKeys: 5, rust: { fallbackKeys: true } });
    const { hs, us, rust, rustDevice } = world;
    // The first sync tells rust the server supports fallback keys: it uploads one.
    rust.dropOneTimeKeys = true;
    await rust.sync();
    await drainOneTimeKeys(world);
    expect(hs.oneTimeKeyCount(rust.userId, rust.deviceId)).toBe(0);

    const message = us.encryptRoomMessage(ROOM, "over the fallback key");
    const [outcome] = await us.shareRoomKey(ROOM, [rustDevice]);
    expect(outcome?.outcome).toBe("established");
    expect(hs.claims.filter((c) => c.claimer.userId === us.device.userId)).toMatchObject([
      { target: { userId: rust.userId }, fallback: true },
    ]);
    expect(noticesToRust(world)).toEqual([]);
    const processed = await rust.sync();
    expect(processed.map((p) => p.type)).toEqual([ProcessedToDeviceEventType.Decrypted]);
    expect(await rust.decryptRoomMessage(ROOM, message, us.device.userId)).toEqual({
      ok: true,
      body: "over the fallback key",
    });
  });

  it("a claimed key whose signature does not verify → refused, one notice", async () => {
    const tampering = (transport: Transport): Transport => ({
      sendToDevice: (request) => transport.sendToDevice(request),
      claimKeys: async (request) => {
        const claimed = await transport.claimKeys(request);
        return claimed.ok ? { ok: true, value: tamperSignatures(claimed.value) } : claimed;
      },
    });
    world = await makeInteropWorld({ ourOneTimeKeys: 5, wrapOurTransport: tampering });
    const { hs, us, rust, rustDevice } = world;
    for (let attempt = 0; attempt < 3; attempt++) {
      const [outcome] = await us.shareRoomKey(ROOM, [rustDevice]);
      // R5: a key that does not verify backs the device off; the shares right after skip it.
      expect(outcome).toMatchObject(
        attempt === 0
          ? { outcome: "failed", detail: expect.stringMatching(/^badKeySignature/) }
          : { outcome: "backingOff" },
      );
    }
    expect(us.olm.forgetSessions(rustDevice)).toBe(0);
    const notices = noticesToRust(world);
    expect(notices.map((n) => n.content.code)).toEqual(["m.no_olm"]);
    expect(hs.claims.length).toBeGreaterThan(0);
    const processed = await rust.sync();
    expect(processed.map((p) => p.type)).toEqual([ProcessedToDeviceEventType.PlainText]);
  });
});
