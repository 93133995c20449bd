import { test as fcTest } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PeerDevice, peerKeyOf } from "../../src/devices/peerDevice.js";

// peerKeyOf builds the key by hand for plain ids; it must stay exactly the JSON text the store
// keeps (and older versions wrote), for every string.
const device = (userId: string, deviceId: string, curve25519: string) =>
  ({ userId, deviceId, curve25519 }) as unknown as Pick<
    PeerDevice,
    "userId" | "deviceId" | "curve25519"
  >;

describe("peerKeyOf", () => {
  fcTest.prop([fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), fc.string()])(
    "is JSON.stringify([userId, deviceId, curve25519]) for any strings (quotes, escapes, lone surrogates)",
    (userId, deviceId, curve25519) => {
      expect(peerKeyOf(device(userId, deviceId, curve25519))).toBe(
        JSON.stringify([userId, deviceId, curve25519]),
      );
    },
  );

  fcTest.prop([
    fc.string({
      unit: fc.constantFrom("a", "Z", "@", ":", '"', "\\", "\n", "\u007f", "é", "\ud800"),
    }),
  ])("is the JSON text around each character JSON escapes or not", (text) => {
    expect(peerKeyOf(device(`@${text}:x`, text, text))).toBe(
      JSON.stringify([`@${text}:x`, text, text]),
    );
  });

  it("keeps two devices apart that a plain join would merge", () => {
    const a = peerKeyOf(device('@a",":x', "B", "C"));
    const b = peerKeyOf(device("@a", ':x","B', "C"));
    expect(a).not.toBe(b);
  });
});
