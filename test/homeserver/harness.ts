import type { JsonObject } from "../../src/events/json.js";
import type { SendToDeviceRequest } from "../../src/transport/transport.js";
import { fakeUpload } from "../support/homeserver/fakeKeys.js";
import type { DeviceRef } from "../support/homeserver/index.js";
import { InMemoryHomeserver } from "../support/homeserver/index.js";

export const ALICE = { userId: "@alice:alpha.example", deviceId: "ALICE1" } as const;
export const ALICE2 = { userId: "@alice:alpha.example", deviceId: "ALICE2" } as const;
export const BOB = { userId: "@bob:beta.example", deviceId: "BOB1" } as const;
export const CAROL = { userId: "@carol:gamma.example", deviceId: "CAROL1" } as const;

/** A homeserver where each device has logged in and uploaded identity keys. */
export function homeserverWith(...devices: readonly DeviceRef[]): InMemoryHomeserver {
  const hs = new InMemoryHomeserver();
  for (const { userId, deviceId } of devices) {
    const uploaded = hs.uploadKeys(userId, deviceId, fakeUpload(userId, deviceId));
    if (!uploaded.ok) throw new Error(`setup upload refused: ${uploaded.problems.join("; ")}`);
  }
  return hs;
}

/**
 * A send request built from plain strings. The Transport's branded id types guard the
 * library's own code; the relay must judge whatever arrives, so tests cast here.
 */
export function sendRequest(
  eventType: string,
  txnId: string,
  messages: Readonly<Record<string, Readonly<Record<string, JsonObject>>>>,
): SendToDeviceRequest {
  return { eventType, txnId, body: { messages } } as SendToDeviceRequest;
}

/** One message to one device. */
export const to = (
  device: DeviceRef,
  content: JsonObject,
): Readonly<Record<string, Readonly<Record<string, JsonObject>>>> => ({
  [device.userId]: { [device.deviceId]: content },
});

export const dummyContent = (n: number): JsonObject => ({ n });
