import type { JsonObject } from "../../events/json.js";
import type { SendToDeviceRequest } from "../../transport/transport.js";
import { fakeUpload } from "./fakeKeys.js";
import type { DeviceRef } from "./ids.js";
import type { InMemoryHomeserver } from "./inMemoryHomeserver.js";

/** Logs each device in and uploads fake identity keys for it; returns `hs`. */
export function registerFakeDevices(
  hs: InMemoryHomeserver,
  devices: readonly DeviceRef[],
): InMemoryHomeserver {
  for (const { userId, deviceId } of devices) {
    const uploaded = hs.uploadKeys(userId, deviceId, fakeUpload(userId, deviceId));
    if (!uploaded.ok) throw new Error(`setup upload refused: ${uploaded.problems.join("; ")}`);
  }
  return hs;
}

/**
 * A send request built from plain strings. The Transport's branded id types guard the
 * library's own code; the relay must judge whatever arrives, so the cast is deliberate.
 */
export function sendRequest(
  eventType: string,
  txnId: string,
  messages: Readonly<Record<string, Readonly<Record<string, JsonObject>>>>,
): SendToDeviceRequest {
  return { eventType, txnId, body: { messages } } as SendToDeviceRequest;
}

/** One message to one device, as the `messages` of a send. */
export const toDevice = (
  device: DeviceRef,
  content: JsonObject,
): Readonly<Record<string, Readonly<Record<string, JsonObject>>>> => ({
  [device.userId]: { [device.deviceId]: content },
});
