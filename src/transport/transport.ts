import type { JsonObject, JsonValue } from "../events/json.js";
import type { DeviceId, UserId } from "../events/matrixIds.js";
import type { Result } from "../result.js";

/** `messages` of PUT /sendToDevice/{eventType}/{txnId}: user id → device id → content. */
export type ToDeviceMessages = Readonly<Record<UserId, Readonly<Record<DeviceId, JsonObject>>>>;

/** One PUT /sendToDevice/{eventType}/{txnId}: the path's two parts and the JSON body. */
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

/** What a transport may report. */
export type TransportFailureReason =
  /** The homeserver could not be reached (or the request timed out). */
  | "unreachable"
  /** The homeserver answered with an error. */
  | "rejected"
  | "rateLimited";

/** What the library reports when the transport itself misbehaved. */
export type TransportFaultReason =
  /** The transport threw or its promise rejected. */
  | "threw"
  /** The call did not settle within the library's `callTimeoutMs`. */
  | "timedOut"
  /** The transport resolved something that is not a result of the documented shape. */
  | "malformedResult";

/** Why a call failed, as the transport saw it; `detail` is for logs. */
export interface TransportFailure {
  readonly reason: TransportFailureReason;
  readonly detail: string;
}

/** How a transport call failed, as the library saw it. */
export interface TransportCallFailure {
  readonly reason: TransportFailureReason | TransportFaultReason;
  readonly detail: string;
}

/**
 * The homeserver edge, in the Client-Server API's shapes. Failures are data. The library treats
 * whatever a transport does as untrusted: a throw, a rejection, a result of the wrong shape or a
 * call that never settles each become a failure, so a transport can neither crash nor stall it.
 */
export interface Transport {
  /**
   * PUT /sendToDevice; `{ ok: true }` only once the homeserver answered 200 (that is what counts as
   * delivered).
   */
  sendToDevice(request: SendToDeviceRequest): Promise<Result<void, TransportFailure>>;
  /** Returns the raw response body; the library checks its shape itself. */
  claimKeys(request: KeysClaimRequest): Promise<Result<JsonValue, TransportFailure>>;
}
