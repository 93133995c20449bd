import { expect } from "vitest";
import type { KeyWithholdingHooks } from "../../src/coordinator/keyWithholdingTypes.js";
import type { RoomId } from "../../src/events/matrixIds.js";
import { InMemoryHomeserver } from "../support/homeserver/index.js";
import { SimulatedDevice, type SimulatedDeviceOptions } from "../support/simulatedDevice.js";

export const ROOM = "!room:example.org" as RoomId;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A homeserver, a settable clock and named devices that know each other's keys. */
export interface World {
  readonly hs: InMemoryHomeserver;
  readonly clock: { now: number };
  device(name: string): SimulatedDevice;
  /** Checks nothing crossed the homeserver against the spec, and frees every Olm object. */
  close(): void;
}

/** Per-device settings beyond the hooks: a transport layer, a call timeout. */
export type DeviceSettings = Partial<
  Pick<SimulatedDeviceOptions, "wrapTransport" | "callTimeoutMs" | "clock">
>;

export async function makeWorld(
  oneTimeKeys: Record<string, number>,
  hooks: (name: string) => KeyWithholdingHooks = () => ({}),
  settings: (name: string) => DeviceSettings = () => ({}),
): Promise<World> {
  const hs = new InMemoryHomeserver();
  const clock = { now: Date.UTC(2026, 10, 26, 9) };
  const devices = new Map<string, SimulatedDevice>();
  for (const [name, count] of Object.entries(oneTimeKeys)) {
    devices.set(
      name,
      await SimulatedDevice.create({
        hs,
        userId: `@${name}:example.org`,
        deviceId: `${name.toUpperCase()}DEVICE`,
        oneTimeKeys: count,
        hooks: hooks(name),
        ...settings(name),
        clock: settings(name).clock ?? (() => clock.now),
      }),
    );
  }
  const users = [...devices.keys()].map((name) => `@${name}:example.org`);
  for (const device of devices.values()) device.refreshDevices(users);
  return {
    hs,
    clock,
    device(name) {
      const device = devices.get(name);
      if (device === undefined) throw new Error(`no device ${name}`);
      return device;
    },
    close() {
      expect(hs.violations).toEqual([]);
      for (const device of devices.values()) device.dispose();
    },
  };
}

export const deliveredTo = (hs: InMemoryHomeserver, eventType: string, userId: string) =>
  hs.deliveries.filter((m) => m.eventType === eventType && m.recipient.userId === userId);
