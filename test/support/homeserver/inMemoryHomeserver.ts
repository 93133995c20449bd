import type { JsonObject } from "../../../src/events/json.js";
import type { Result } from "../../../src/result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
  TransportFailure,
  TransportFailureReason,
} from "../../../src/transport/transport.js";
import { handleClaimKeys } from "./claimKeys.js";
import { FaultPlan } from "./faults.js";
import { type DeviceRef, isSpecUserId, serverNameOf } from "./ids.js";
import { KeyDirectory } from "./keyDirectory.js";
import { describeError, Observations } from "./observations.js";
import { handleSendToDevice } from "./sendToDevice.js";
import type { ServerParts } from "./serverParts.js";
import { checkKeysQueryResponse, checkKeysUpload, checkKeysUploadResponse } from "./specChecks.js";
import { ToDeviceRelay } from "./toDeviceRelay.js";
import { TransactionLog } from "./transactions.js";
import type {
  ClaimRecord,
  DeliveredMessage,
  DeliveryListener,
  Dispatch,
  Endpoint,
  ToDeviceEvent,
  TransportEndpoint,
  Violation,
} from "./types.js";
import { isObject, overTheWire } from "./wire.js";

export interface KeysUploadResponse {
  readonly one_time_key_counts: Readonly<Record<string, number>>;
}

export interface UploadRejection {
  readonly reason: "rejected";
  readonly problems: readonly string[];
}

export interface KeysQueryResponse {
  readonly device_keys: Readonly<Record<string, Readonly<Record<string, JsonObject>>>>;
  readonly failures: Readonly<Record<string, JsonObject>>;
}

export interface HomeserverOptions {
  /**
   * Awaited before each transport call is processed, e.g. a fast-check scheduler's
   * `() => s.schedule(Promise.resolve())`, to explore interleavings of concurrent calls.
   */
  readonly beforeRequest?: (device: DeviceRef, endpoint: TransportEndpoint) => Promise<void>;
}

/**
 * An in-memory homeserver for the to-device and key endpoints of the Client-Server API.
 * Every request is checked against the vendored spec; anything off is refused and
 * recorded in `violations`, which tests expect to stay empty.
 *
 * Servers are the server part of user ids. `setServerDown(name, true)` makes that
 * homeserver unreachable: its own devices' calls fail with "unreachable"; claims and
 * queries for its users list it in `failures`; messages for its users wait and are
 * delivered, in order, when it comes back (as federation retries them).
 */
export class InMemoryHomeserver {
  private readonly parts: ServerParts;

  constructor(private readonly options: HomeserverOptions = {}) {
    const directory = new KeyDirectory();
    const faults = new FaultPlan();
    const observations = new Observations();
    const relay = new ToDeviceRelay(
      directory,
      (server) => faults.isDown(server),
      (message) => observations.delivered(message),
    );
    this.parts = { directory, relay, faults, observations, transactions: new TransactionLog() };
  }

  /** POST /keys/upload as `userId`/`deviceId`; registers the device. */
  uploadKeys(
    userId: string,
    deviceId: string,
    body: unknown,
  ): Result<KeysUploadResponse, UploadRejection> {
    const device = { userId, deviceId };
    this.parts.observations.countRequest(device, "uploadKeys");
    const refuse = (problems: readonly string[]): { readonly ok: false } & UploadRejection => {
      this.parts.observations.violation({
        endpoint: "uploadKeys",
        device,
        problems,
        request: body,
      });
      return { ok: false, reason: "rejected", problems };
    };
    const loginProblems = checkLogin(device);
    if (loginProblems.length > 0) return refuse(loginProblems);
    const wire = overTheWire(body);
    if (!wire.ok) return refuse(wire.problems);
    const problems = checkKeysUpload(device, wire.value);
    if (problems.length > 0 || !isObject(wire.value)) return refuse(problems);
    const conflicts = this.parts.directory.upload(device, wire.value);
    if (conflicts.length > 0) return refuse(conflicts);
    const response = { one_time_key_counts: this.parts.directory.oneTimeKeyCounts(device) };
    assertConforms("/keys/upload response", checkKeysUploadResponse(response));
    return { ok: true, value: response };
  }

  /** POST /keys/query for all devices of `userIds`, as any client would see it. */
  queryKeys(userIds: readonly string[]): KeysQueryResponse {
    const deviceKeys = new Map<string, Record<string, JsonObject>>();
    const failures = new Map<string, JsonObject>();
    for (const userId of userIds) {
      if (!isSpecUserId(userId)) throw new Error(`queryKeys: ${userId} is not a user ID`);
      const server = serverNameOf(userId);
      if (this.parts.faults.isDown(server)) {
        failures.set(server, {});
        continue;
      }
      const devices = this.parts.directory.deviceKeysOf(userId);
      // "the same as uploaded via /keys/upload, with the addition of an unsigned property"
      const entries = [...devices].map(([id, keys]) => [id, { ...keys, unsigned: {} }] as const);
      if (entries.length > 0) deviceKeys.set(userId, Object.fromEntries(entries));
    }
    const response = {
      device_keys: Object.fromEntries(deviceKeys),
      failures: Object.fromEntries(failures),
    };
    assertConforms("/keys/query response", checkKeysQueryResponse(response));
    return JSON.parse(JSON.stringify(response)) as KeysQueryResponse;
  }

  /** The connection of one logged-in device; logging in registers the device. */
  transportFor(userId: string, deviceId: string): Transport {
    const device = { userId, deviceId };
    const loginProblems = checkLogin(device);
    if (loginProblems.length > 0) throw new Error(`transportFor: ${loginProblems.join("; ")}`);
    this.parts.directory.register(device);
    return {
      sendToDevice: (request: SendToDeviceRequest) =>
        this.call(device, "sendToDevice", request, () =>
          handleSendToDevice(this.parts, device, request),
        ),
      claimKeys: (request: KeysClaimRequest) =>
        this.call(device, "claimKeys", request, () => handleClaimKeys(this.parts, device, request)),
    };
  }

  /** Drains the device's inbox: its to-device events in delivery order. */
  sync(userId: string, deviceId: string): ToDeviceEvent[] {
    return this.parts.relay.drain({ userId, deviceId });
  }

  /** The next `count` calls fail with `reason` and have no effect on the server. */
  failNext(
    device: DeviceRef,
    endpoint: TransportEndpoint,
    count = 1,
    reason: TransportFailureReason = "unreachable",
  ): void {
    this.parts.faults.add(device, endpoint, FaultPlan.failure(reason), count);
  }

  /** The next `count` calls take full effect, but the client sees "unreachable". */
  loseNextResponses(device: DeviceRef, endpoint: TransportEndpoint, count = 1): void {
    this.parts.faults.add(device, endpoint, FaultPlan.loseResponse, count);
  }

  /** Injected faults not yet used up. */
  pendingFaults(device: DeviceRef, endpoint: TransportEndpoint): number {
    return this.parts.faults.pending(device, endpoint);
  }

  setServerDown(serverName: string, down: boolean): void {
    this.parts.faults.setDown(serverName, down);
    if (!down) this.parts.relay.release(serverName);
  }

  /** Messages waiting for `serverName` to come back up. */
  heldCount(serverName: string): number {
    return this.parts.relay.heldCount(serverName);
  }

  /** Calls `listener` on each delivery into an inbox; returns the unsubscribe function. */
  onDeliver(listener: DeliveryListener): () => void {
    return this.parts.observations.subscribe(listener);
  }

  get violations(): readonly Violation[] {
    return this.parts.observations.violations;
  }

  /** Every message put into an inbox, in delivery order (contents frozen). */
  get deliveries(): readonly DeliveredMessage[] {
    return this.parts.observations.deliveries;
  }

  /** Messages for users or devices unknown at delivery time. */
  get dropped(): readonly Dispatch[] {
    return this.parts.relay.dropped;
  }

  /** Every key handed out, one-time or fallback, in order. */
  get claims(): readonly ClaimRecord[] {
    return this.parts.observations.claims;
  }

  /** /keys/claim requests answered (including those whose response was then lost). */
  get claimsAnswered(): number {
    return this.parts.observations.claimsAnswered;
  }

  /** Calls received, including failed and refused ones. */
  requestCount(device: DeviceRef, endpoint: Endpoint): number {
    return this.parts.observations.requestCount(device, endpoint);
  }

  /** Unclaimed one-time keys of the device (of `algorithm`, or of all algorithms). */
  oneTimeKeyCount(userId: string, deviceId: string, algorithm?: string): number {
    const counts = this.parts.directory.oneTimeKeyCounts({ userId, deviceId });
    if (algorithm !== undefined) return counts[algorithm] ?? 0;
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  /** Runs one transport call; whatever goes wrong becomes a failure, never an exception. */
  private async call<T>(
    device: DeviceRef,
    endpoint: TransportEndpoint,
    request: unknown,
    handle: () => Result<T, TransportFailure>,
  ): Promise<Result<T, TransportFailure>> {
    try {
      await this.options.beforeRequest?.(device, endpoint);
      return handle();
    } catch (error) {
      const problems = [`the relay could not process the request: ${describeError(error)}`];
      this.parts.observations.violation({ endpoint, device, problems, request });
      return { ok: false, reason: "rejected", detail: problems[0] ?? "" };
    }
  }
}

/** Access tokens belong to a valid user id and a non-empty device id. */
function checkLogin(device: DeviceRef): string[] {
  const problems: string[] = [];
  if (!isSpecUserId(device.userId)) problems.push(`${device.userId} is not a user ID`);
  if (device.deviceId === "") problems.push("the device ID is empty");
  return problems;
}

/** The double's own answers must conform too; a failure here is a bug in the double. */
function assertConforms(what: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new Error(`${what} breaks the spec: ${problems.join("; ")}`);
}
