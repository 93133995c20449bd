import type { JsonObject } from "../../events/json.js";
import type { DeviceRef } from "./ids.js";

export type { DeviceRef } from "./ids.js";

/** The per-device endpoints the library calls through its `Transport`. */
export type TransportEndpoint = "sendToDevice" | "claimKeys";
/** Every endpoint a device's requests are counted for. */
export type Endpoint = TransportEndpoint | "uploadKeys";

/** A to-device event as /sync delivers it (`to_device.events[]`). */
export interface ToDeviceEvent {
  readonly type: string;
  readonly sender: string;
  readonly content: JsonObject;
}

/** One message placed in one device's inbox. */
export interface DeliveredMessage {
  readonly eventType: string;
  readonly sender: DeviceRef;
  readonly recipient: DeviceRef;
  readonly txnId: string;
  readonly content: JsonObject;
}

/** A message addressed by a send; `recipient.deviceId` may be "*" until it is expanded. */
export interface Dispatch {
  readonly eventType: string;
  readonly sender: DeviceRef;
  readonly recipient: DeviceRef;
  readonly txnId: string;
  readonly content: JsonObject;
}

/** Something that crossed (or tried to cross) the relay against the spec. */
export interface Violation {
  readonly endpoint: Endpoint | "onDeliver";
  readonly device: DeviceRef | undefined;
  readonly problems: readonly string[];
  /** The request as received, for the failure message. */
  readonly request: unknown;
}

/** One key handed out by /keys/claim. */
export interface ClaimRecord {
  readonly claimer: DeviceRef;
  readonly target: DeviceRef;
  readonly keyName: string;
  readonly fallback: boolean;
}

/**
 * Called synchronously with each message as it enters an inbox (see
 * `InMemoryHomeserver.onDeliver`); one that throws is recorded as an `onDeliver` violation.
 */
export type DeliveryListener = (message: DeliveredMessage) => void;
