import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import { verifyJsonSignature } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";
import { SPEC_SCHEMAS, specRef, validateAgainstSpec } from "../spec/specSchemas.js";
import { backend, ciphertextOf, claimFrom, freeFixtures, loadOlm, RawPeer } from "./olmFixtures.js";

beforeAll(loadOlm);
afterEach(freeFixtures);

const keysUploadBody = specRef(
  "api/keys.yaml",
  "paths",
  "/keys/upload",
  "post",
  "requestBody",
  "content",
  "application/json",
  "schema",
);

const asJson = (content: unknown): JsonObject => content as JsonObject;
const messageType = (content: unknown, recipient: PeerDevice): number =>
  ciphertextOf(content, recipient).type;

describe("publishing keys", () => {
  it("device keys, one-time keys and a fallback key form a valid, verifiable /keys/upload body", async () => {
    const bob = await backend("bob");
    const { userId, deviceId, ed25519 } = bob.ownDevice;
    const oneTimeKeys = unwrap(bob.generateOneTimeKeys(3));
    const fallbackKeys = unwrap(bob.generateFallbackKey());
    const body = {
      device_keys: bob.signedDeviceKeys(),
      one_time_keys: oneTimeKeys,
      fallback_keys: fallbackKeys,
    };
    expect(validateAgainstSpec(keysUploadBody, body)).toEqual([]);
    expect(validateAgainstSpec(SPEC_SCHEMAS.deviceKeys, body.device_keys)).toEqual([]);
    expect(Object.keys(oneTimeKeys)).toHaveLength(3);
    for (const [keyId, object] of Object.entries({
      ...oneTimeKeys,
      ...fallbackKeys,
      device: bob.signedDeviceKeys(),
    })) {
      expect(keyId).toMatch(/^(signed_curve25519:[A-Za-z0-9+/]+|device)$/);
      expect(verifyJsonSignature(object, userId, deviceId, ed25519).ok).toBe(true);
    }
    // Published keys are not handed out again.
    const next = unwrap(bob.generateOneTimeKeys(2));
    expect(Object.keys(next).filter((id) => id in oneTimeKeys)).toEqual([]);
  });
});

describe("Alice and Bob over LibolmBackend", () => {
  it("establish a session from a claimed key and talk both ways", async () => {
    const alice = await backend("alice");
    const bob = await backend("bob");
    const claimed = claimFrom(bob);

    expect(alice.hasSession(bob.ownDevice)).toBe(false);
    expect(alice.encrypt(bob.ownDevice, "m.dummy", {})).toMatchObject({
      ok: false,
      reason: "noSession",
    });
    expect(alice.createOutboundSession(bob.ownDevice, claimed)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(alice.hasSession(bob.ownDevice)).toBe(true);

    const first = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {}));
    expect(first.sender_key).toBe(alice.ownDevice.curve25519);
    expect(Object.keys(first.ciphertext)).toEqual([bob.ownDevice.curve25519]);
    expect(messageType(first, bob.ownDevice)).toBe(0);
    const event = { type: "m.room.encrypted", sender: alice.ownDevice.userId, content: first };
    expect(validateAgainstSpec(SPEC_SCHEMAS.encryptedEvent, event)).toEqual([]);

    // Until Alice hears back, her messages stay pre-key messages of the same session.
    const second = unwrap(alice.encrypt(bob.ownDevice, "org.example.second", { n: 2 }));
    expect(messageType(second, bob.ownDevice)).toBe(0);

    expect(bob.hasSession(alice.ownDevice)).toBe(false);
    expect(bob.decrypt(alice.ownDevice, asJson(first))).toEqual({
      ok: true,
      value: { type: "m.dummy", content: {}, newSession: true },
    });
    expect(bob.hasSession(alice.ownDevice)).toBe(true);
    expect(bob.decrypt(alice.ownDevice, asJson(second))).toEqual({
      ok: true,
      value: { type: "org.example.second", content: { n: 2 }, newSession: false },
    });
    // A replayed message does not decrypt twice.
    expect(bob.decrypt(alice.ownDevice, asJson(first))).toMatchObject({
      ok: false,
      reason: "decryptionFailed",
    });

    const answer = unwrap(bob.encrypt(alice.ownDevice, "org.example.answer", { ok: true }));
    expect(messageType(answer, alice.ownDevice)).toBe(1);
    expect(alice.decrypt(bob.ownDevice, asJson(answer))).toEqual({
      ok: true,
      value: { type: "org.example.answer", content: { ok: true }, newSession: false },
    });

    for (let round = 0; round < 3; round += 1) {
      const ping = unwrap(alice.encrypt(bob.ownDevice, "org.example.ping", { round }));
      expect(messageType(ping, bob.ownDevice)).toBe(1);
      expect(unwrap(bob.decrypt(alice.ownDevice, asJson(ping)))).toEqual({
        type: "org.example.ping",
        content: { round },
        newSession: false,
      });
      const pong = unwrap(bob.encrypt(alice.ownDevice, "org.example.pong", { round }));
      expect(messageType(pong, alice.ownDevice)).toBe(1);
      expect(unwrap(alice.decrypt(bob.ownDevice, asJson(pong))).content).toEqual({ round });
    }
  });

  it("a used one-time key cannot start a second session", async () => {
    const alice = await backend("alice");
    const bob = await backend("bob");
    const claimed = claimFrom(bob);
    unwrap(alice.createOutboundSession(bob.ownDevice, claimed));
    unwrap(
      bob.decrypt(alice.ownDevice, asJson(unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {})))),
    );

    const latecomer = RawPeer.create("carol");
    const session = latecomer.outboundTo(bob.ownDevice, claimed);
    const envelope = latecomer.envelope(
      session,
      bob.ownDevice,
      latecomer.plaintextFor(bob.ownDevice),
    );
    expect(bob.decrypt(latecomer.device, envelope)).toEqual({
      ok: false,
      reason: "decryptionFailed",
      detail: "OLM.BAD_MESSAGE_KEY_ID",
    });
    expect(bob.hasSession(latecomer.device)).toBe(false);
  });

  it("a fallback key stays usable after a session was made with it", async () => {
    const bob = await backend("bob");
    const [entry] = Object.entries(unwrap(bob.generateFallbackKey()));
    if (entry === undefined) throw new Error("no fallback key");
    const claimed = { keyId: entry[0], keyObject: entry[1] };
    for (const name of ["alice", "carol"]) {
      const peer = await backend(name);
      unwrap(peer.createOutboundSession(bob.ownDevice, claimed));
      const result = bob.decrypt(
        peer.ownDevice,
        asJson(unwrap(peer.encrypt(bob.ownDevice, "m.dummy", {}))),
      );
      expect(result).toMatchObject({ ok: true, value: { newSession: true } });
    }
  });
});

describe("what Alice sends, read through libolm directly", () => {
  it("is an OlmPlaintext per the spec, addressed and keyed correctly, with her signed device keys", async () => {
    const alice = await backend("alice");
    const carol = RawPeer.create("carol");
    unwrap(alice.createOutboundSession(carol.device, carol.claimable()));
    const content = unwrap(alice.encrypt(carol.device, "m.dummy", {}));
    const plaintext = JSON.parse(
      carol.decryptPreKey(alice.ownDevice, asJson(content)),
    ) as JsonObject;

    expect(validateAgainstSpec(SPEC_SCHEMAS.olmPlaintext, plaintext)).toEqual([]);
    expect(
      validateAgainstSpec(SPEC_SCHEMAS.dummyEvent, {
        type: plaintext.type,
        content: plaintext.content,
      }),
    ).toEqual([]);
    expect(plaintext).toEqual({
      type: "m.dummy",
      content: {},
      sender: alice.ownDevice.userId,
      recipient: carol.device.userId,
      recipient_keys: { ed25519: carol.device.ed25519 },
      keys: { ed25519: alice.ownDevice.ed25519 },
      sender_device_keys: alice.signedDeviceKeys(),
    });
    const { userId, deviceId, ed25519 } = alice.ownDevice;
    expect(
      verifyJsonSignature(plaintext.sender_device_keys as JsonObject, userId, deviceId, ed25519).ok,
    ).toBe(true);
  });
});
