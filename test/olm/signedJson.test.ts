import Olm from "@matrix-org/olm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import { type Ed25519PublicKey, parseEd25519PublicKey } from "../../src/events/matrixIds.js";
import { signJson, verifyJsonSignature } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";
import { backend, claimFrom, freeFixtures, loadOlm, RawPeer } from "./olmFixtures.js";

beforeAll(loadOlm);
afterEach(freeFixtures);

/** The appendix's "Cryptographic test vectors": a fixed seed, signer "domain", key "ed25519:1". */
function specSigningKey(): { signing: Olm.PkSigning; publicKey: Ed25519PublicKey } {
  const signing = new Olm.PkSigning();
  const seed = Buffer.from("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1", "base64");
  const publicKey = unwrap(parseEd25519PublicKey(signing.init_with_seed(new Uint8Array(seed))));
  return { signing, publicKey };
}

describe("the spec's JSON signing test vectors", () => {
  it.each([
    [{}, "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"],
    [
      { one: 1, two: "Two" },
      "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw",
    ],
  ])("signJson(%j) gives the spec's signature, which verifies", (object, signature) => {
    const { signing, publicKey } = specSigningKey();
    try {
      const signed = unwrap(signJson(signing, "domain", "1", object));
      expect(signed).toEqual({ ...object, signatures: { domain: { "ed25519:1": signature } } });
      expect(verifyJsonSignature(signed, "domain", "1", publicKey)).toEqual({
        ok: true,
        value: undefined,
      });
    } finally {
      signing.free();
    }
  });
});

describe("signJson and verifyJsonSignature with a device account", () => {
  it("round-trips, keeping other signatures and `unsigned` out of the signed bytes", async () => {
    const alice = await backend("alice");
    const raw = RawPeer.create("carol");
    const object = {
      key: "日本語 ☃ 😀",
      unsigned: { age: 5 },
      signatures: { "@x:y": { "ed25519:Z": "sig" } },
    };
    const signed = unwrap(signJson(raw.account, raw.device.userId, raw.device.deviceId, object));
    expect(signed.signatures).toMatchObject({ "@x:y": { "ed25519:Z": "sig" } });
    expect(
      verifyJsonSignature(signed, raw.device.userId, raw.device.deviceId, raw.device.ed25519).ok,
    ).toBe(true);
    // `unsigned` may change in transit without breaking the signature.
    const aged = { ...signed, unsigned: { age: 500 } };
    expect(
      verifyJsonSignature(aged, raw.device.userId, raw.device.deviceId, raw.device.ed25519).ok,
    ).toBe(true);
    // The right name with somebody else's key does not verify.
    expect(
      verifyJsonSignature(signed, raw.device.userId, raw.device.deviceId, alice.ownDevice.ed25519),
    ).toMatchObject({ ok: false, reason: "badKeySignature", detail: "OLM.BAD_MESSAGE_MAC" });
  });

  it("a fallback key verifies only with its `fallback: true` flag", async () => {
    const bob = await backend("bob");
    const [keyObject] = Object.values(unwrap(bob.generateFallbackKey()));
    if (keyObject === undefined) throw new Error("no fallback key");
    const { userId, deviceId, ed25519 } = bob.ownDevice;
    expect(keyObject.fallback).toBe(true);
    expect(verifyJsonSignature(keyObject, userId, deviceId, ed25519).ok).toBe(true);
    const { fallback: _flag, ...withoutFlag } = keyObject;
    expect(verifyJsonSignature(withoutFlag, userId, deviceId, ed25519)).toMatchObject({
      reason: "badKeySignature",
    });
  });
});

/** Changes the first base64 character; the last one may hold only spare bits that decoders ignore. */
const flipFirst = (text: string): string => (text.startsWith("A") ? "B" : "A") + text.slice(1);

describe("verifyJsonSignature refuses, as data", () => {
  let signed: JsonObject;
  let device: RawPeer["device"];

  const verify = (object: unknown) =>
    verifyJsonSignature(object as JsonObject, device.userId, device.deviceId, device.ed25519);

  beforeAll(async () => {
    const bob = await backend("bob");
    device = bob.ownDevice;
    signed = claimFrom(bob).keyObject;
  });

  const signature = (object: JsonObject): string => {
    const bySigner = (object.signatures as JsonObject)[device.userId] as JsonObject;
    return String(bySigner[`ed25519:${device.deviceId}`]);
  };
  const withSignature = (value: unknown) => ({
    ...signed,
    signatures: { [device.userId]: { [`ed25519:${device.deviceId}`]: value } },
  });

  it.each<[string, () => unknown, string]>([
    [
      "a tampered key",
      () => ({ ...signed, key: flipFirst(String(signed.key)) }),
      "badKeySignature",
    ],
    ["an added field", () => ({ ...signed, fallback: true }), "badKeySignature"],
    [
      "a flipped signature character",
      () => withSignature(flipFirst(signature(signed))),
      "badKeySignature",
    ],
    ["a garbage signature", () => withSignature("not base64!!"), "badKeySignature"],
    ["an empty signature", () => withSignature(""), "badKeySignature"],
    [
      "no signature by the device",
      () => ({ ...signed, signatures: { [device.userId]: {} } }),
      "badKeySignature",
    ],
    [
      "only another user's signature",
      () => ({ ...signed, signatures: { "@eve:evil.org": {} } }),
      "badKeySignature",
    ],
    ["no signatures at all", () => ({ key: signed.key }), "malformedInput"],
    ["signatures not an object", () => ({ ...signed, signatures: [1] }), "malformedInput"],
    [
      "a signer entry not an object",
      () => ({ ...signed, signatures: { [device.userId]: "x" } }),
      "malformedInput",
    ],
    ["a signature that is a number", () => withSignature(42), "malformedInput"],
    ["a float in the signed object", () => ({ ...signed, n: 0.5 }), "malformedInput"],
    ["an array instead of an object", () => [signed], "malformedInput"],
    ["null", () => null, "malformedInput"],
  ])("%s", (_name, build, reason) => {
    expect(verify(build())).toMatchObject({ ok: false, reason });
  });

  it("the untouched object does verify (the cases above differ from it in one way each)", () => {
    expect(verify(signed).ok).toBe(true);
  });
});
