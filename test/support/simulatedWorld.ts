import type { KeyWithholdingHooks } from "../../src/coordinator/keyWithholdingTypes.js";
import type { JsonObject } from "../../src/events/json.js";
import type { RoomId } from "../../src/events/matrixIds.js";
import { InMemoryHomeserver } from "./homeserver/index.js";
import type { ToDeviceEvent } from "./homeserver/types.js";
import { SimulatedDevice, type SimulatedDeviceOptions } from "./simulatedDevice.js";

/*
 * A homeserver double, a fake clock and named devices that know each other's keys. Free of
 * vitest, so scripts (npm run robustness) use it too; test/coordinator/worldFixture.ts adds the
 * spec-violation assertion on close.
 */

export const ROOM = "!room:example.org" as RoomId;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export type DeviceSettings = Partial<
  Pick<SimulatedDeviceOptions, "wrapTransport" | "callTimeoutMs" | "clock">
>;

export interface RobustWorld {
  readonly hs: InMemoryHomeserver;
  readonly clock: { now: number };
  device(name: string): SimulatedDevice;
  readonly names: readonly string[];
  /** Spec violations seen by the homeserver double. */
  violations(): readonly string[];
  close(): void;
}

export async function makeRobustWorld(
  oneTimeKeys: Record<string, number>,
  hooks: (name: string) => KeyWithholdingHooks = () => ({}),
  settings: (name: string) => DeviceSettings = () => ({}),
): Promise<RobustWorld> {
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
    names: [...devices.keys()],
    device(name) {
      const device = devices.get(name);
      if (device === undefined) throw new Error(`no device ${name}`);
      return device;
    },
    violations: () => hs.violations.map((v) => `${v.endpoint}: ${v.problems.join("; ")}`),
    close() {
      for (const device of devices.values()) device.dispose();
    },
  };
}

export const syncRaw = (world: RobustWorld, name: string): ToDeviceEvent[] => {
  const d = world.device(name).device;
  return world.hs.sync(d.userId, d.deviceId);
};

export const asJson = (value: unknown): JsonObject =>
  JSON.parse(JSON.stringify(value)) as JsonObject;

/** m.no_olm deliveries from `from` to `to`. */
export function noOlmDeliveries(world: RobustWorld, from: string, to: string): number {
  const f = world.device(from).device;
  const t = world.device(to).device;
  return world.hs.deliveries.filter(
    (m) =>
      m.eventType === "m.room_key.withheld" &&
      m.content.code === "m.no_olm" &&
      m.sender.userId === f.userId &&
      m.recipient.userId === t.userId,
  ).length;
}
