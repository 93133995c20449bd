import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";
import { type ClaimedOneTimeKey, LibolmBackend } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";
import { backend, claimFrom, connectedPair, freeFixtures, loadOlm } from "./olmFixtures.js";

beforeAll(loadOlm);
afterEach(freeFixtures);

const BOB = "@bob:example.org" as UserId;
const BOB_DEVICE = "BOBDEVICE" as DeviceId;

describe("LibolmBackend.create", () => {
  it.each([
    ["maxSessionsPerDevice 0", { userId: BOB, deviceId: BOB_DEVICE, maxSessionsPerDevice: 0 }],
    ["maxSessionsPerDevice 1.5", { userId: BOB, deviceId: BOB_DEVICE, maxSessionsPerDevice: 1.5 }],
    ["a user ID without @", { userId: "bob" as UserId, deviceId: BOB_DEVICE }],
    ["an empty device ID", { userId: BOB, deviceId: "" as DeviceId }],
  ])("refuses %s", async (_name, options) => {
    expect(await LibolmBackend.create(options)).toMatchObject({
      ok: false,
      reason: "invalidArgument",
    });
  });

  it("gives each backend its own identity keys", async () => {
    const one = await backend("bob");
    const two = await backend("bob");
    expect(one.ownDevice.userId).toBe(BOB);
    expect(one.ownDevice.curve25519).not.toBe(two.ownDevice.curve25519);
    expect(one.ownDevice.ed25519).not.toBe(two.ownDevice.ed25519);
  });
});

describe("generateOneTimeKeys", () => {
  it.each([-1, 1.5, 101, Number.NaN])("refuses count %s", async (count) => {
    const bob = await backend("bob");
    expect(bob.generateOneTimeKeys(count)).toMatchObject({ ok: false, reason: "invalidArgument" });
  });

  it("returns nothing for 0 and up to libolm's 100 at once", async () => {
    const bob = await backend("bob");
    expect(unwrap(bob.generateOneTimeKeys(0))).toEqual({});
    expect(Object.keys(unwrap(bob.generateOneTimeKeys(100)))).toHaveLength(100);
  });
});

describe("dispose", () => {
  it("frees everything once; afterwards every call fails as data", async () => {
    const { alice, bob } = await connectedPair();
    const deviceKeys = alice.signedDeviceKeys();
    const claimed = claimFrom(bob);
    const message = unwrap(bob.encrypt(alice.ownDevice, "m.dummy", {})) as unknown as JsonObject;
    alice.dispose();
    alice.dispose();
    const disposed = { ok: false, detail: "The backend has been disposed." };
    expect(alice.hasSession(bob.ownDevice)).toBe(false);
    expect(alice.createOutboundSession(bob.ownDevice, claimed)).toEqual({
      ...disposed,
      reason: "disposed",
    });
    expect(alice.encrypt(bob.ownDevice, "m.dummy", {})).toEqual({
      ...disposed,
      reason: "disposed",
    });
    expect(alice.decrypt(bob.ownDevice, message)).toEqual({
      ...disposed,
      reason: "disposed",
    });
    expect(alice.generateOneTimeKeys(1)).toEqual({ ...disposed, reason: "disposed" });
    expect(alice.generateFallbackKey()).toEqual({ ...disposed, reason: "disposed" });
    // Nothing of the account is read again: the device and its signed keys are plain data.
    expect(alice.signedDeviceKeys()).toBe(deviceKeys);
    expect(alice.ownDevice.userId).toBe("@alice:example.org");
  });
});

describe("arguments a type checker would refuse", () => {
  it("are refused as data, never thrown", async () => {
    const { alice, bob } = await connectedPair();
    const nothing = undefined as unknown;
    expect(alice.hasSession(nothing as PeerDevice)).toBe(false);
    expect(alice.createOutboundSession(bob.ownDevice, nothing as ClaimedOneTimeKey).ok).toBe(false);
    expect(alice.createOutboundSession(nothing as PeerDevice, claimFrom(bob)).ok).toBe(false);
    expect(alice.encrypt(nothing as PeerDevice, "m.dummy", {}).ok).toBe(false);
    expect(alice.encrypt(bob.ownDevice, 42 as unknown as string, {})).toMatchObject({
      reason: "malformedInput",
    });
    const notJson = { f: () => 1 } as unknown as JsonObject;
    expect(alice.encrypt(bob.ownDevice, "m.dummy", notJson)).toMatchObject({
      reason: "malformedInput",
    });
    expect(alice.decrypt(nothing as PeerDevice, {}).ok).toBe(false);
    expect(alice.decrypt(bob.ownDevice, nothing as JsonObject)).toMatchObject({
      reason: "malformedInput",
    });
  });
});
