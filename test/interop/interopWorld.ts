import { expect } from "vitest";
import type { KeyWithholdingHooks } from "../../src/coordinator/keyWithholdingTypes.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { DeviceId, RoomId, UserId } from "../../src/events/matrixIds.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import type { Transport } from "../../src/transport/transport.js";
import { specHomeserver } from "../support/specHomeserver.js";
import { RustPeer, type RustPeerOptions } from "./rustPeer.js";

export const ROOM = "!interop:example.org" as RoomId;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Our device (libolm + this library) and a matrix-rust-sdk device on one homeserver double. */
export interface InteropWorld {
  readonly hs: InMemoryHomeserver;
  readonly clock: { now: number };
  readonly us: SimulatedDevice;
  readonly rust: RustPeer;
  /** The rust device as our device list knows it. */
  readonly rustDevice: PeerDevice;
  close(): void;
}

export interface InteropSettings {
  readonly ourOneTimeKeys: number;
  readonly rust?: Omit<RustPeerOptions, "hs" | "userId" | "deviceId">;
  readonly hooks?: KeyWithholdingHooks;
  readonly wrapOurTransport?: (transport: Transport) => Transport;
}

export async function makeInteropWorld(settings: InteropSettings): Promise<InteropWorld> {
  const hs = specHomeserver();
  const clock = { now: Date.UTC(2026, 10, 26, 9) };
  const rust = await RustPeer.create({
    hs,
    userId: "@rust:example.org",
    deviceId: "RUSTDEVICE",
    ...settings.rust,
  });
  const us = await SimulatedDevice.create({
    hs,
    userId: "@us:example.org",
    deviceId: "USDEVICE",
    oneTimeKeys: settings.ourOneTimeKeys,
    clock: () => clock.now,
    ...(settings.hooks === undefined ? {} : { hooks: settings.hooks }),
    ...(settings.wrapOurTransport === undefined
      ? {}
      : { wrapTransport: settings.wrapOurTransport }),
  });
  us.refreshDevices([rust.userId]);
  await rust.track([us.device.userId]);
  const rustDevice = us.directory.findDevice(rust.userId as UserId, rust.deviceId as DeviceId);
  if (rustDevice === undefined) throw new Error("rust's device keys did not verify on our side");
  return {
    hs,
    clock,
    us,
    rust,
    rustDevice,
    close() {
      expect(hs.violations).toEqual([]);
      rust.close();
      us.dispose();
    },
  };
}

/** Claims every one-time key rust has on the server, as other devices would. */
export async function drainOneTimeKeys(w: InteropWorld): Promise<void> {
  const thief = w.hs.transportFor("@drain:example.org", "DRAIN");
  const request = {
    one_time_keys: { [w.rust.userId]: { [w.rust.deviceId]: "signed_curve25519" } },
  } as unknown as Parameters<Transport["claimKeys"]>[0];
  while (w.hs.oneTimeKeyCount(w.rust.userId, w.rust.deviceId, "signed_curve25519") > 0) {
    const claimed = await thief.claimKeys(request);
    expect(claimed.ok).toBe(true);
  }
}
