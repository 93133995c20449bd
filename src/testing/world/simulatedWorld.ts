import type { KeyWithholdingHooks } from "../../coordinator/keyWithholdingTypes.js";
import type { JsonObject } from "../../events/json.js";
import type { RoomId } from "../../events/matrixIds.js";
import { InMemoryHomeserver } from "../homeserver/index.js";
import type { ToDeviceEvent } from "../homeserver/types.js";
import { SimulatedDevice, type SimulatedDeviceOptions } from "./simulatedDevice.js";

/*
 * A homeserver double, a fake clock and named devices that know each other's keys. Free of
 * any test runner, so scripts (npm run robustness) use it too; this repository's
 * test/coordinator/worldFixture.ts adds the spec-violation assertion on close.
 */

/** The room the world's tests share keys in. */
export const ROOM = "!room:example.org" as RoomId;
/** One minute in ms, for moving `clock.now`. */
export const MINUTE = 60_000;
/** One hour in ms, for moving `clock.now`. */
export const HOUR = 60 * MINUTE;

/** Per-device overrides of the {@link SimulatedDeviceOptions} that {@link makeRobustWorld} uses. */
export type DeviceSettings = Partial<
  Pick<SimulatedDeviceOptions, "wrapTransport" | "callTimeoutMs" | "clock">
>;

/** What {@link makeRobustWorld} builds; `close()` it when done. */
export interface RobustWorld {
  /** The homeserver double every device uses. */
  readonly hs: InMemoryHomeserver;
  /** The shared fake clock in ms (starts at 2026-11-26 09:00 UTC); set `now` to move time. */
  readonly clock: { now: number };
  /** The device of that name; throws for an unknown name. */
  device(name: string): SimulatedDevice;
  /** The devices' names, in creation order. */
  readonly names: readonly string[];
  /** Spec violations seen by the homeserver double. */
  violations(): readonly string[];
  /** Disposes every device (libolm memory); does not check violations. */
  close(): void;
}

/**
 * Named simulated devices on one homeserver double and one fake clock, each knowing the
 * others' keys. `oneTimeKeys` maps a name to how many one-time keys it uploads; the name `alice`
 * gives `@alice:example.org` / `ALICEDEVICE`. `hooks` and `settings` are asked per name.
 */
export async function makeRobustWorld(
  oneTimeKeys: Record<string, number>,
  hooks: (name: string) => KeyWithholdingHooks = () => ({}),
  settings: (name: string) => DeviceSettings = () => ({}),
  /** The homeserver double to use (e.g. one with a `schemaCheck`). Default: a new one. */
  hs: InMemoryHomeserver = new InMemoryHomeserver(),
): Promise<RobustWorld> {
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

/** The device's pending to-device events, taken from the double without the library seeing them. */
export const syncRaw = (world: RobustWorld, name: string): ToDeviceEvent[] => {
  const d = world.device(name).device;
  return world.hs.sync(d.userId, d.deviceId);
};

/** A deep copy through JSON (drops undefined, functions), typed as a JSON object. */
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
