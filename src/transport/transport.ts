import type { JsonObject, JsonValue } from "../events/json.js";
import type { DeviceId, UserId } from "../events/matrixIds.js";
import type { Result } from "../result.js";

/** `messages` of PUT /sendToDevice/{eventType}/{txnId}: user id → device id → content. */
export type ToDeviceMessages = Readonly<Record<UserId, Readonly<Record<DeviceId, JsonObject>>>>;

export interface SendToDeviceRequest {
  readonly eventType: string;
  /** Stable per request: a retry reuses it, so the server delivers at most once. */
  readonly txnId: string;
  readonly body: { readonly messages: ToDeviceMessages };
}

/** Body of POST /keys/claim. */
export interface KeysClaimRequest {
  readonly one_time_keys: Readonly<Record<UserId, Readonly<Record<DeviceId, "signed_curve25519">>>>;
  readonly timeout?: number;
}

export type TransportFailureReason =
  /** The homeserver could not be reached (or the request timed out). */
  | "unreachable"
  /** The homeserver answered with an error. */
  | "rejected"
  | "rateLimited";

export interface TransportFailure {
  readonly reason: TransportFailureReason;
  readonly detail: string;
}

/**
 * The homeserver edge, in the Client-Server API's shapes. Failures are data; the library also
 * turns a thrown exception or a rejected promise into a failure, so a transport cannot crash it.
 */
export interface Transport {
  sendToDevice(request: SendToDeviceRequest): Promise<Result<void, TransportFailure>>;
  /** Returns the raw response body; the library checks its shape itself. */
  claimKeys(request: KeysClaimRequest): Promise<Result<JsonValue, TransportFailure>>;
}
