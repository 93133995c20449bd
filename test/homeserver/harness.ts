import type { JsonObject } from "../../src/events/json.js";
import type { DeviceRef, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { registerFakeDevices } from "../../src/testing/homeserver/requestFixtures.js";
import { specHomeserver } from "../support/specHomeserver.js";

export { sendRequest, toDevice as to } from "../../src/testing/homeserver/requestFixtures.js";

export const ALICE = { userId: "@alice:alpha.example", deviceId: "ALICE1" } as const;
export const ALICE2 = { userId: "@alice:alpha.example", deviceId: "ALICE2" } as const;
export const BOB = { userId: "@bob:beta.example", deviceId: "BOB1" } as const;
export const CAROL = { userId: "@carol:gamma.example", deviceId: "CAROL1" } as const;

/** A spec-checked homeserver where each device has logged in and uploaded identity keys. */
export const homeserverWith = (...devices: readonly DeviceRef[]): InMemoryHomeserver =>
  registerFakeDevices(specHomeserver(), devices);

export const dummyContent = (n: number): JsonObject => ({ n });
