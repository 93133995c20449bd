import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import { buildOlmPlaintext, readOlmPlaintext } from "../../src/olm/index.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";
import { freeFixtures, loadOlm, RawPeer } from "./olmFixtures.js";

beforeAll(loadOlm);
afterEach(freeFixtures);

function parties(): { alice: PeerDevice; bob: PeerDevice; eve: PeerDevice } {
  return {
    alice: RawPeer.create("alice").device,
    bob: RawPeer.create("bob").device,
    eve: RawPeer.create("eve").device,
  };
}

const plaintextFrom = (
  alice: PeerDevice,
  bob: PeerDevice,
  senderDeviceKeys: JsonObject = {},
): JsonObject =>
  buildOlmPlaintext({
    sender: alice,
    senderDeviceKeys,
    recipient: bob,
    type: "m.dummy",
    content: { n: 1 },
  });

describe("buildOlmPlaintext", () => {
  it("builds what the spec's OlmPlaintext schema describes, with no sender_device", () => {
    const { alice, bob } = parties();
    const plaintext = plaintextFrom(alice, bob);
    expect(
      validateAgainstSpec(SPEC_SCHEMAS.olmPlaintext, {
        ...plaintext,
        sender_device_keys: undefined,
      }),
    ).toEqual([]);
    expect(plaintext).toMatchObject({
      sender: alice.userId,
      recipient: bob.userId,
      recipient_keys: { ed25519: bob.ed25519 },
      keys: { ed25519: alice.ed25519 },
    });
    expect(plaintext).not.toHaveProperty("sender_device");
  });
});

describe("readOlmPlaintext", () => {
  const read = (plaintext: JsonObject | string, from: PeerDevice, to: PeerDevice) =>
    readOlmPlaintext(
      typeof plaintext === "string" ? plaintext : JSON.stringify(plaintext),
      from,
      to,
    );

  it("accepts an honest plaintext, with or without a matching sender_device", () => {
    const { alice, bob } = parties();
    const plaintext = plaintextFrom(alice, bob);
    expect(read(plaintext, alice, bob)).toEqual({
      ok: true,
      value: { type: "m.dummy", content: { n: 1 } },
    });
    expect(read({ ...plaintext, sender_device: alice.deviceId }, alice, bob).ok).toBe(true);
  });

  it.each<[string, (p: { alice: PeerDevice; bob: PeerDevice; eve: PeerDevice }) => JsonObject]>([
    ["another recipient", ({ eve }) => ({ recipient: eve.userId })],
    ["another recipient key", ({ eve }) => ({ recipient_keys: { ed25519: eve.ed25519 } })],
    ["another sender", ({ eve }) => ({ sender: eve.userId })],
    ["another sender key", ({ eve }) => ({ keys: { ed25519: eve.ed25519 } })],
    ["another sender_device", () => ({ sender_device: "OTHERDEVICE" })],
  ])("%s is a payloadMismatch", (_name, change) => {
    const devices = parties();
    const plaintext = { ...plaintextFrom(devices.alice, devices.bob), ...change(devices) };
    expect(read(plaintext, devices.alice, devices.bob)).toMatchObject({
      ok: false,
      reason: "payloadMismatch",
    });
  });

  it.each<[string, JsonObject | string]>([
    ["not JSON", "{nope"],
    ["not an object", "[1]"],
    ["no type", { type: null }],
    ["content not an object", { content: [1] }],
    ["no recipient", { recipient: null }],
    ["recipient_keys not an object", { recipient_keys: "x" }],
    ["no keys", { keys: {} }],
    ["sender_device not a string", { sender_device: 7 }],
  ])("%s is malformedInput", (_name, change) => {
    const { alice, bob } = parties();
    const plaintext =
      typeof change === "string" ? change : { ...plaintextFrom(alice, bob), ...change };
    expect(read(plaintext, alice, bob)).toMatchObject({ ok: false, reason: "malformedInput" });
  });
});
