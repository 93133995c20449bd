import type { DeviceDirectory, PeerDevice } from "../devices/peerDevice.js";
import { readPeerDevice } from "../devices/readPeerDevice.js";
import { describeThrown } from "../edges/describeThrown.js";
import type { DecodePath } from "../events/decodeRejection.js";
import { MAX_REASON_LENGTH } from "../events/withheldContent.js";
import type { OlmBackend } from "../olm/olmBackend.js";
import { ok, type Result } from "../result.js";
import type { KeyWithholdingStore } from "../store/keyWithholdingStore.js";
import type { Transport } from "../transport/transport.js";
import type { KeyWithholdingHooks } from "./keyWithholdingTypes.js";
import {
  type KeyWithholdingLogger,
  LOG_LEVELS,
  type Log,
  type LogLevel,
  makeLog,
  withHookErrorFallback,
} from "./logger.js";
import { type KeyWithholdingInspection, readInspection } from "./peerInspection.js";
import { type Clock, clockFrom } from "./protocolClock.js";

/**
 * What `createKeyWithholding` and `openKeyWithholding` take. Only `olm`, `transport` and
 * `devices` are required. Every field is checked at run time (plain-JS callers included); a
 * missing edge, a wrong type or a number out of range gives an {@link OptionsRejection} naming
 * the field, never a throw. Counts must be integers from 1 to the bound given.
 */
export interface KeyWithholdingOptions {
  /** Our Olm account; our user id, device id and keys come from it. */
  readonly olm: OlmBackend;
  /** The homeserver: to-device sends and one-time key claims. */
  readonly transport: Transport;
  /** The client's device list: who owns which keys. */
  readonly devices: DeviceDirectory;
  /**
   * Where state survives restarts (`openKeyWithholding` only): peer machines, the outbox, the
   * per-session notices sent and received, and (through the Olm backend) the Olm account and
   * sessions. Default: nothing is durable.
   */
  readonly store?: KeyWithholdingStore;
  /**
   * The clocks (default: `Date.now` and `performance.now`). Waits run on the monotonic one, so a
   * wrong wall clock cannot shorten the one-hour rule. A single function serves as both, for
   * simulations that drive time by hand.
   */
  readonly clock?: Clock | (() => number);
  /** Calls from the library to the client (a peer reachable again, a notice answered, …). */
  readonly hooks?: KeyWithholdingHooks;
  /**
   * Most messages in one to-device request. Default 250 ({@link DEFAULT_MAX_MESSAGES_PER_REQUEST});
   * 1 to 10,000. Lower it only if the homeserver refuses large request bodies.
   */
  readonly maxMessagesPerRequest?: number;
  /**
   * Default: random ids. Must be unique per access token; an id that is not 1 to 255 of
   * `[A-Za-z0-9._~-]`, or that is already in use, is replaced by a random one.
   */
  readonly newTxnId?: () => string;
  /** The `reason` text of our m.no_olm notices, at most 4,096 characters. Default: a stock text. */
  readonly noOlmReason?: string;
  /**
   * How many received per-session notices to remember (for `explainUndecryptable`), shared fairly
   * between sending devices. Default 100,000 ({@link DEFAULT_MAX_RECEIVED_WITHHELD}); 1 to
   * 10,000,000.
   */
  readonly maxReceivedWithheld?: number;
  /**
   * The longest the library waits for any one transport call or hook, in ms; a call still
   * unsettled then counts as failed (a hook is no longer awaited). Default 30,000
   * ({@link DEFAULT_CALL_TIMEOUT_MS}); 1 to 86,400,000 (a day).
   */
  readonly callTimeoutMs?: number;
  /**
   * Requests one flush sends at the same time. Default 4 ({@link DEFAULT_MAX_CONCURRENT_REQUESTS});
   * 1 to 64.
   */
  readonly maxConcurrentRequests?: number;
  /** Where the library logs its decisions. Default: nowhere (hook errors: see onHookError). */
  readonly logger?: KeyWithholdingLogger;
  /** The lowest level passed to `logger`. Default "info" (device ids appear only at "debug"). */
  readonly logLevel?: LogLevel;
  /**
   * XState inspection events (`InspectionEvent`) for the devices it picks, for an inspector or
   * your own tooling; see `KeyWithholdingInspection`, and its privacy note. Default: none.
   */
  readonly inspect?: KeyWithholdingInspection;
}

/** Default `maxMessagesPerRequest`: to-device messages packed into one request at most. */
export const DEFAULT_MAX_MESSAGES_PER_REQUEST = 250;
/** Default `callTimeoutMs`, in ms (30 s): how long one transport call or hook may take. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** Default `maxConcurrentRequests`: requests one flush keeps in flight at once. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 4;
/** Default `maxReceivedWithheld`: received per-session notices remembered, across all senders. */
export const DEFAULT_MAX_RECEIVED_WITHHELD = 100_000;

/** Options after checking: every field present, every edge of the documented shape. */
export interface ResolvedOptions {
  readonly olm: OlmBackend;
  readonly ownDevice: PeerDevice;
  readonly transport: Transport;
  readonly devices: DeviceDirectory;
  readonly store: KeyWithholdingStore | undefined;
  readonly clock: Clock;
  readonly hooks: KeyWithholdingHooks;
  readonly maxMessagesPerRequest: number;
  readonly newTxnId: (() => string) | undefined;
  readonly noOlmReason: string | undefined;
  readonly maxReceivedWithheld: number;
  readonly callTimeoutMs: number;
  readonly maxConcurrentRequests: number;
  readonly log: Log;
  readonly inspect: KeyWithholdingInspection | undefined;
}

/**
 * Why `createKeyWithholding` or `openKeyWithholding` refused its options; nothing was created.
 * A programming error in the caller: fix the option `path` names and call again.
 */
export interface OptionsRejection {
  /** Always `"invalidOptions"`: tells this apart from `OpenRejection` (`"storeFailed"`). */
  readonly reason: "invalidOptions";
  /** The option at fault, e.g. `["hooks", "onPeerReachable"]`; `[]`: the options object itself. */
  readonly path: DecodePath;
  /** A sentence for a developer saying what is wrong (not meant for end users). */
  readonly detail: string;
}

const HOOK_NAMES = ["onPeerReachable", "onRepliedToNotice", "onPeerStateChange", "onHookError"];

/** Reads `createKeyWithholding`'s options, from typed or untyped callers alike. */
export function readOptions(input: unknown): Result<ResolvedOptions, OptionsRejection> {
  try {
    return readFields(input);
  } catch (thrown) {
    return refuse([], `reading the options threw ${describeThrown(thrown, 80)}`);
  }
}

function readFields(input: unknown): Result<ResolvedOptions, OptionsRejection> {
  if (!isObject(input)) return refuse([], "options must be an object");
  const get = (key: string): unknown => Reflect.get(input, key);
  const olm = get("olm");
  if (!hasMethods(olm, ["hasSession", "createOutboundSession", "encrypt", "decrypt"])) {
    return refuse(["olm"], "olm must be an OlmBackend");
  }
  const ownDevice = readPeerDevice(Reflect.get(olm, "ownDevice"), ["olm", "ownDevice"]);
  if (!ownDevice.ok) return refuse(ownDevice.path, ownDevice.detail);
  const transport = get("transport");
  if (!hasMethods(transport, ["sendToDevice", "claimKeys"])) {
    return refuse(["transport"], "transport must have sendToDevice and claimKeys");
  }
  const devices = get("devices");
  if (!hasMethods(devices, ["findDevice", "findByCurve25519", "knowsUser"])) {
    return refuse(
      ["devices"],
      "devices must be a DeviceDirectory (findDevice, findByCurve25519, knowsUser)",
    );
  }
  const store = get("store");
  if (store !== undefined && !hasMethods(store, ["loadOlm", "load", "commit"])) {
    return refuse(["store"], "store must be a KeyWithholdingStore (loadOlm, load, commit)");
  }
  const clock = get("clock");
  if (
    clock !== undefined &&
    typeof clock !== "function" &&
    !hasMethods(clock, ["wall", "monotonic"])
  ) {
    return refuse(["clock"], "clock must be a function or { wall, monotonic }");
  }
  const hooks = get("hooks");
  if (hooks !== undefined) {
    if (!isObject(hooks)) return refuse(["hooks"], "hooks must be an object");
    for (const name of HOOK_NAMES) {
      const hook: unknown = Reflect.get(hooks, name);
      if (hook !== undefined && typeof hook !== "function")
        return refuse(["hooks", name], "a hook must be a function");
    }
  }
  const logger = get("logger");
  if (logger !== undefined && !hasMethods(logger, ["debug", "info", "warn", "error"])) {
    return refuse(["logger"], "logger must have debug, info, warn and error methods");
  }
  const logLevel = get("logLevel") ?? "info";
  if (!LOG_LEVELS.some((level) => level === logLevel)) {
    return refuse(["logLevel"], `logLevel must be one of ${LOG_LEVELS.join(", ")}`);
  }
  const log = makeLog(logger as KeyWithholdingLogger | undefined, logLevel as LogLevel);
  const inspect = readInspection(get("inspect"));
  if (!inspect.ok) return refuse(["inspect"], inspect.detail);
  const newTxnId = get("newTxnId");
  if (newTxnId !== undefined && typeof newTxnId !== "function") {
    return refuse(["newTxnId"], "newTxnId must be a function");
  }
  const noOlmReason = get("noOlmReason");
  if (
    noOlmReason !== undefined &&
    (typeof noOlmReason !== "string" || noOlmReason.length > MAX_REASON_LENGTH)
  ) {
    return refuse(
      ["noOlmReason"],
      `noOlmReason must be a string of at most ${MAX_REASON_LENGTH} characters`,
    );
  }
  const numbers = {
    maxMessagesPerRequest: readCount(
      get("maxMessagesPerRequest"),
      DEFAULT_MAX_MESSAGES_PER_REQUEST,
      10_000,
    ),
    maxReceivedWithheld: readCount(
      get("maxReceivedWithheld"),
      DEFAULT_MAX_RECEIVED_WITHHELD,
      10_000_000,
    ),
    callTimeoutMs: readCount(get("callTimeoutMs"), DEFAULT_CALL_TIMEOUT_MS, 24 * 60 * 60 * 1000),
    maxConcurrentRequests: readCount(
      get("maxConcurrentRequests"),
      DEFAULT_MAX_CONCURRENT_REQUESTS,
      64,
    ),
  };
  for (const [name, value] of Object.entries(numbers)) {
    if (value === undefined)
      return refuse([name], `${name} must be a positive integer within its bound`);
  }
  return ok({
    olm: olm as OlmBackend,
    ownDevice: ownDevice.value,
    transport: transport as Transport,
    devices: devices as DeviceDirectory,
    store: store as KeyWithholdingStore | undefined,
    clock: clockFrom(clock as Clock | (() => number) | undefined),
    hooks: withHookErrorFallback((hooks ?? {}) as KeyWithholdingHooks, log, logger !== undefined),
    maxMessagesPerRequest: numbers.maxMessagesPerRequest ?? DEFAULT_MAX_MESSAGES_PER_REQUEST,
    newTxnId: newTxnId as (() => string) | undefined,
    noOlmReason: noOlmReason as string | undefined,
    maxReceivedWithheld: numbers.maxReceivedWithheld ?? DEFAULT_MAX_RECEIVED_WITHHELD,
    callTimeoutMs: numbers.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    maxConcurrentRequests: numbers.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
    log,
    inspect: inspect.value,
  });
}

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

function hasMethods(value: unknown, names: readonly string[]): value is object {
  return isObject(value) && names.every((name) => typeof Reflect.get(value, name) === "function");
}

function readCount(value: unknown, fallback: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  return Number.isSafeInteger(value) && Number(value) >= 1 && Number(value) <= max
    ? Number(value)
    : undefined;
}

const refuse = (path: DecodePath, detail: string): Result<never, OptionsRejection> => ({
  ok: false,
  reason: "invalidOptions",
  path,
  detail,
});
