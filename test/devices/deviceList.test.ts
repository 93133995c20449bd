import { describe, expect, it } from "vitest";
import { DeviceList } from "../../src/devices/deviceList.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type {
  Curve25519PublicKey,
  DeviceId,
  Ed25519PublicKey,
  UserId,
} from "../../src/events/matrixIds.js";

const device = (user: string, id: string, curve: string): PeerDevice => ({
  userId: user as UserId,
  deviceId: id as DeviceId,
  curve25519: curve.repeat(43) as Curve25519PublicKey,
  ed25519: "E".repeat(43) as Ed25519PublicKey,
});

describe("DeviceList", () => {
  const alice = device("@alice:example.org", "A1", "A");
  const mallory = device("@mallory:example.org", "M1", "M");

  it("finds a device by id and by (user, curve25519 key)", () => {
    const list = new DeviceList([alice, mallory]);
    expect(list.findDevice(alice.userId, alice.deviceId)).toBe(alice);
    expect(list.findByCurve25519(alice.userId, alice.curve25519)).toBe(alice);
  });

  it("a key belongs to its user only: another user cannot claim it", () => {
    const list = new DeviceList([alice, mallory]);
    expect(list.findByCurve25519(mallory.userId, alice.curve25519)).toBeUndefined();
  });

  it("a re-created device replaces its old keys", () => {
    const list = new DeviceList([alice]);
    const recreated = device("@alice:example.org", "A1", "Z");
    list.set(recreated);
    expect(list.findByCurve25519(alice.userId, alice.curve25519)).toBeUndefined();
    expect(list.findByCurve25519(alice.userId, recreated.curve25519)).toBe(recreated);
    expect(list.size).toBe(1);
    expect(list.devicesOf(alice.userId)).toEqual([recreated]);
  });

  it("remove forgets both lookups", () => {
    const list = new DeviceList([alice]);
    list.remove(alice.userId, alice.deviceId);
    expect(list.findDevice(alice.userId, alice.deviceId)).toBeUndefined();
    expect(list.findByCurve25519(alice.userId, alice.curve25519)).toBeUndefined();
  });
});
