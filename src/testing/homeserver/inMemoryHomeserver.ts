import type { JsonObject } from "../../events/json.js";
import type { Result } from "../../result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
  TransportFailure,
  TransportFailureReason,
} from "../../transport/transport.js";
import { handleClaimKeys } from "./claimKeys.js";
import { FaultPlan } from "./faults.js";
import { type DeviceRef, isSpecUserId, serverNameOf } from "./ids.js";
import { KeyDirectory } from "./keyDirectory.js";
import { describeError, Observations } from "./observations.js";
import { proseRulesOnly, type SchemaCheck } from "./schemaCheck.js";
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

/** The double's answer to /keys/upload, as the spec's response body. */
export interface KeysUploadResponse {
  /** Unclaimed one-time keys the device has left, by algorithm (e.g. `signed_curve25519`). */
  readonly one_time_key_counts: Readonly<Record<string, number>>;
}

/** A /keys/upload the double refused (also recorded in `violations`). */
export interface UploadRejection {
  /** Always `"rejected"`. */
  readonly reason: "rejected";
  /** What was wrong with the request, one a line. */
  readonly problems: readonly string[];
}

/** The double's answer to /keys/query, as the spec's response body (a JSON copy). */
export interface KeysQueryResponse {
  /** Device keys by user id, then device id, as uploaded plus `unsigned: {}`. */
  readonly device_keys: Readonly<Record<string, Readonly<Record<string, JsonObject>>>>;
  /** An empty object per server that is down (`setServerDown`). */
  readonly failures: Readonly<Record<string, JsonObject>>;
}

/** Options of the {@link InMemoryHomeserver} constructor; all optional. */
export interface HomeserverOptions {
  /**
   * Awaited before each transport call is processed, e.g. a fast-check scheduler's
   * `() => s.schedule(Promise.resolve())`, to explore interleavings of concurrent calls.
   */
  readonly beforeRequest?: (device: DeviceRef, endpoint: TransportEndpoint) => Promise<void>;
  /**
   * Validates against the spec's JSON Schemas. Default: none, only the spec's prose rules
   * (compiling the schemas needs the vendored spec and Ajv; this repository's tests pass one).
   */
  readonly schemaCheck?: SchemaCheck;
}

/**
 * An in-memory homeserver for the to-device and key endpoints of the Client-Server API.
 * Every request is checked against the spec (its prose rules always, its JSON Schemas when
 * `schemaCheck` is given); anything off is refused and recorded in `violations`, which tests
 * expect to stay empty.
 *
 * Servers are the server part of user ids. `setServerDown(name, true)` makes that
 * homeserver unreachable: its own devices' calls fail with "unreachable"; claims and
 * queries for its users list it in `failures`; messages for its users wait and are
 * delivered, in order, when it comes back (as federation retries them).
 */
export class InMemoryHomeserver {
  private readonly parts: ServerParts;

  /** An empty homeserver: no devices, no faults, every server up. */
  constructor(private readonly options: HomeserverOptions = {}) {
    const directory = new KeyDirectory();
    const faults = new FaultPlan();
    const observations = new Observations();
    const relay = new ToDeviceRelay(
      directory,
      (server) => faults.isDown(server),
      (message) => observations.delivered(message),
    );
    this.parts = {
      directory,
      relay,
      faults,
      observations,
      transactions: new TransactionLog(),
      schemas: options.schemaCheck ?? proseRulesOnly,
    };
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
    const problems = checkKeysUpload(this.parts.schemas, device, wire.value);
    if (problems.length > 0 || !isObject(wire.value)) return refuse(problems);
    const conflicts = this.parts.directory.upload(device, wire.value);
    if (conflicts.length > 0) return refuse(conflicts);
    const response = { one_time_key_counts: this.parts.directory.oneTimeKeyCounts(device) };
    assertConforms("/keys/upload response", checkKeysUploadResponse(this.parts.schemas, response));
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
    assertConforms("/keys/query response", checkKeysQueryResponse(this.parts.schemas, response));
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

  /**
   * Takes the homeserver `serverName` (a user id's server part) down or back up; coming up
   * delivers, in order, the messages held for its users.
   */
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

  /** Requests (and throwing delivery listeners) that broke the spec, in order; tests expect none. */
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
