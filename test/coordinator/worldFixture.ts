import { expect } from "vitest";
import type { KeyWithholdingHooks } from "../../src/coordinator/keyWithholdingTypes.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import type { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import { type DeviceSettings, makeRobustWorld } from "../../src/testing/world/simulatedWorld.js";
import { specHomeserver } from "../support/specHomeserver.js";

export { type DeviceSettings, HOUR, MINUTE, ROOM } from "../../src/testing/world/simulatedWorld.js";

/** A homeserver, a settable clock and named devices that know each other's keys. */
export interface World {
  readonly hs: InMemoryHomeserver;
  readonly clock: { now: number };
  device(name: string): SimulatedDevice;
  /** Checks nothing crossed the homeserver against the spec, and frees every Olm object. */
  close(): void;
}

export async function makeWorld(
  oneTimeKeys: Record<string, number>,
  hooks: (name: string) => KeyWithholdingHooks = () => ({}),
  settings: (name: string) => DeviceSettings = () => ({}),
): Promise<World> {
  const world = await makeRobustWorld(oneTimeKeys, hooks, settings, specHomeserver());
  return {
    hs: world.hs,
    clock: world.clock,
    device: (name) => world.device(name),
    close() {
      expect(world.hs.violations).toEqual([]);
      world.close();
    },
  };
}

export const deliveredTo = (hs: InMemoryHomeserver, eventType: string, userId: string) =>
  hs.deliveries.filter((m) => m.eventType === eventType && m.recipient.userId === userId);
