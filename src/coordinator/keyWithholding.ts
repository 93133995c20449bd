import { findKeyOwner } from "../devices/directoryLookup.js";
import { type PeerDevice, peerKeyOf } from "../devices/peerDevice.js";
import { describeThrown } from "../edges/describeThrown.js";
import { buildNoOlmNotice, buildSessionWithheldNotice } from "../events/buildNotice.js";
import type { DeviceId, UserId } from "../events/matrixIds.js";
import { defaultWithheldReason } from "../events/withheldCode.js";
import type { PeerSnapshot } from "../machine/peerSnapshot.js";
import { ok, type Result } from "../result.js";
import {
  type ClaimedKeys,
  parseKeysClaimResponse,
  serverOf,
} from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { reportHookError } from "./callHook.js";
import { GuardedOlm } from "./guardedOlm.js";
import { handleIncoming } from "./incomingEvent.js";
import {
  type KeyWithholdingOptions,
  type OptionsRejection,
  type ResolvedOptions,
  readOptions,
} from "./keyWithholdingOptions.js";
import type {
  EstablishOutcome,
  FlushReport,
  IncomingResult,
  KeyWithholdingHooks,
  Refusal,
  SessionWithheldRequest,
  ShareOutcome,
  UndecryptableExplanation,
  UndecryptableQuery,
  WakeUp,
} from "./keyWithholdingTypes.js";
import { type LoadedState, loadStoredState, type OpenRejection } from "./loadStoredState.js";
import {
  Outbox,
  type OutboxMessage,
  type OutboxRequest,
  randomTxnIds,
  retryDelayMs,
  toSendRequest,
} from "./outbox.js";
import { PeerDriver } from "./peerDriver.js";
import { PeerInspection } from "./peerInspection.js";
import { ProtocolClock } from "./protocolClock.js";
import {
  type Entry,
  readDevice,
  readEntries,
  readSessionWithheldRequest,
  readShareOutcome,
  readUndecryptableQuery,
} from "./publicArguments.js";
import { ReceivedWithheld } from "./receivedWithheld.js";
import { RetryScheduler } from "./retryScheduler.js";
import { runPool } from "./runPool.js";
import { safeClaimKeys, safeSendToDevice } from "./safeTransport.js";
import { ServerBackoff } from "./serverBackoff.js";
import { requestRecord, sessionNoticeKey } from "./storedRecords.js";
import { StoreWriter } from "./storeWriter.js";

/**
 * Creates the object a client's crypto layer embeds, with nothing durable, or says which option
 * is wrong. With a store, use `openKeyWithholding`. See the integration guide.
 */
export function createKeyWithholding(
  options: KeyWithholdingOptions,
): Result<KeyWithholding, OptionsRejection> {
  const resolved = readOptions(options);
  if (!resolved.ok) return resolved;
  if (resolved.value.store !== undefined) {
    const detail = "a store is read when opening: use openKeyWithholding()";
    return { ok: false, reason: "invalidOptions", path: ["store"], detail };
  }
  return ok(new KeyWithholding(resolved.value, CONSTRUCT, undefined));
}

/**
 * Opens the coordinator over a store: reads back every peer's state, the requests not yet
 * acknowledged, the per-session notices sent and received, and protocol time, checking each
 * record (what cannot be read is reported through `onHookError` and not acted on). Requests
 * found pending, and replies or notices that were in flight, go out again on the next
 * `flush()` (or at once, under `start()`), requests with their original txnIds. Never rejects.
 */
export async function openKeyWithholding(
  options: KeyWithholdingOptions,
): Promise<Result<KeyWithholding, OptionsRejection | OpenRejection>> {
  const resolved = readOptions(options);
  if (!resolved.ok) return resolved;
  const { store, hooks, callTimeoutMs } = resolved.value;
  if (store === undefined) return ok(new KeyWithholding(resolved.value, CONSTRUCT, undefined));
  const loaded = await loadStoredState(store, callTimeoutMs, (thrown) =>
    reportHookError(hooks, thrown, "store.load"),
  );
  return loaded.ok ? ok(new KeyWithholding(resolved.value, CONSTRUCT, loaded.value)) : loaded;
}

// Only createKeyWithholding constructs: it is the one place options are checked.
const CONSTRUCT: unique symbol = Symbol("KeyWithholding");

/**
 * One per logged-in device. Owns a machine per peer device (keyed by user id, device id and
 * curve25519 key), carries out their commands over the Olm backend and the transport, and
 * batches what they send into to-device requests. No method throws or rejects, whatever it is
 * given and whatever the edges (transport, device list, store, hooks) do.
 */
export class KeyWithholding {
  readonly #olm: GuardedOlm;
  readonly #transport: Transport;
  readonly #devices: ResolvedOptions["devices"];
  readonly #hooks: KeyWithholdingHooks;
  readonly #clock: ProtocolClock;
  readonly #outbox: Outbox;
  readonly #driver: PeerDriver;
  readonly #received: ReceivedWithheld;
  readonly #sessionNoticesSent = new Set<string>();
  readonly #writer: StoreWriter;
  readonly #scheduler: RetryScheduler;
  readonly #serverBackoff = new ServerBackoff();
  readonly #callTimeoutMs: number;
  readonly #maxConcurrentRequests: number;
  readonly #log: ResolvedOptions["log"];

  constructor(options: ResolvedOptions, key: typeof CONSTRUCT, loaded: LoadedState | undefined) {
    if (key !== CONSTRUCT) throw new TypeError("use createKeyWithholding()");
    this.#olm = new GuardedOlm(options.olm, options.ownDevice);
    this.#transport = options.transport;
    this.#devices = options.devices;
    this.#hooks = options.hooks;
    this.#clock = new ProtocolClock(options.clock, loaded?.protocolTime);
    this.#callTimeoutMs = options.callTimeoutMs;
    this.#maxConcurrentRequests = options.maxConcurrentRequests;
    this.#log = options.log;
    this.#writer = new StoreWriter({
      store: options.store,
      takeOlmChanges: () => this.#olm.takeChanges(),
      callTimeoutMs: options.callTimeoutMs,
      onFailure: (detail) => {
        this.#log.error("store commit failed; it is written again with the next one", { detail });
        this.#reportError(new Error(detail), "store.commit");
      },
    });
    this.#outbox = new Outbox(options.maxMessagesPerRequest, options.newTxnId ?? randomTxnIds());
    const writer = this.#writer;
    this.#received = new ReceivedWithheld(options.maxReceivedWithheld, {
      put: (record) => writer.receivedPut(record),
      removed: (id) => writer.receivedRemoved(id),
    });
    const own = options.ownDevice;
    this.#driver = new PeerDriver({
      olm: this.#olm,
      transport: options.transport,
      writer,
      commit: () => this.#commit(),
      outbox: this.#outbox,
      hooks: options.hooks,
      clock: this.#clock,
      noOlmContent: Object.freeze(
        buildNoOlmNotice({
          senderKey: own.curve25519,
          fromDevice: own.deviceId,
          ...(options.noOlmReason === undefined ? {} : { reason: options.noOlmReason }),
        }),
      ),
      callTimeoutMs: options.callTimeoutMs,
      inspection:
        options.inspect === undefined
          ? undefined
          : new PeerInspection(options.inspect, (thrown) => this.#reportError(thrown, "inspect")),
    });
    if (loaded !== undefined) {
      this.#driver.restore(loaded.peers);
      this.#outbox.restore(loaded.requests);
      for (const noticeKey of loaded.sessionNotices) this.#sessionNoticesSent.add(noticeKey);
      this.#received.restore(loaded.received);
    }
    this.#scheduler = new RetryScheduler({
      nextWakeAt: () => this.nextWakeAt(),
      run: () => this.#flushOnce({ onlyDue: true }),
      wallNow: () => this.#clock.wall(),
    });
  }

  /** Packs what is queued into requests and writes everything changed as one transaction. */
  #commit(): Promise<unknown> {
    for (const request of this.#outbox.pack()) this.#writer.requestAdded(requestRecord(request));
    return this.#writer.commit();
  }

  /**
   * The crypto layer tells us, per device, whether it has an Olm session after trying to share
   * a room key. Notices that become due are sent in as few requests as possible.
   */
  async reportShareOutcomes(outcomes: readonly ShareOutcome[]): Promise<FlushReport> {
    return this.#safely(async () => {
      const read = readEntries(outcomes, "outcomes", readShareOutcome);
      if (!read.ok) return this.#refusedCall(read);
      const { accepted, refused } = this.#acceptAll(read.value, (value) => value.device);
      for (const { device, outcome } of accepted) {
        const at = this.#driver.now();
        const driven = this.#driver.drive(
          device,
          outcome === "established"
            ? { type: "SESSION_ESTABLISHED", at, origin: "outbound" }
            : { type: "ESTABLISH_FAILED", at },
        );
        // Most steps finish at once: awaiting only the ones that wait keeps a share linear.
        if (driven instanceof Promise) await driven;
      }
      // A call whose every entry was refused acts on nothing, not even earlier pending requests.
      if (accepted.length === 0) return this.#refusedEntries(refused);
      return withRefused(await this.flush(), refused);
    });
  }

  /**
   * Makes sure an Olm session exists with each device: claims one-time keys for those without
   * one (one /keys/claim for all), verifies and uses them, and reports every outcome to the
   * devices' machines; notices for the failures go out before this resolves.
   */
  async establishSessions(devices: readonly PeerDevice[]): Promise<readonly EstablishOutcome[]> {
    try {
      return await this.#establish(devices);
    } catch (thrown) {
      this.#reportError(thrown, "establishSessions");
      return [];
    }
  }

  async #establish(input: unknown): Promise<readonly EstablishOutcome[]> {
    const read = readEntries(input, "devices", readDevice);
    if (!read.ok) return [{ outcome: "refused", ...refusalOf(read) }];
    const outcomes: EstablishOutcome[] = [];
    const missing: PeerDevice[] = [];
    const { accepted, refused } = this.#acceptAll(read.value, (device) => device);
    for (const device of accepted) {
      if (!this.#olm.hasSession(device)) {
        missing.push(device);
        continue;
      }
      outcomes.push({ device, outcome: "existing" });
      // Keep the machine in step with the backend (a session restored from elsewhere).
      const synced = this.#driver.syncSession(device, true);
      if (synced instanceof Promise) await synced;
    }
    for (const refusal of refused) outcomes.push({ outcome: "refused", ...refusal });
    if (accepted.length === 0 && refused.length > 0) return outcomes;
    const due = await this.#dueForClaim(missing, outcomes);
    if (due.length > 0) {
      const response = await safeClaimKeys(
        this.#transport,
        { one_time_keys: claimBody(due), timeout: 10_000 },
        this.#callTimeoutMs,
      );
      const claimed = response.ok ? parseKeysClaimResponse(response.value) : response;
      if (claimed.ok) this.#noteServers(due, claimed.value);
      for (const device of due) {
        const outcome = claimed.ok
          ? this.#createSession(device, claimed.value)
          : ({ device, outcome: "failed", detail: claimed.detail } as const);
        outcomes.push(outcome);
        const at = this.#driver.now();
        if (outcome.outcome === "existing") await this.#driver.syncSession(device);
        else if (outcome.outcome === "established") {
          await this.#driver.drive(device, { type: "SESSION_ESTABLISHED", at, origin: "outbound" });
        } else {
          // The device's own failure (no key, a bad key, its server unreachable) backs its
          // claims off (R5); our homeserver failing the whole call is no fault of the device.
          await this.#driver.drive(
            device,
            claimed.ok ? { type: "CLAIM_FAILED", at } : { type: "ESTABLISH_FAILED", at },
          );
        }
      }
    }
    await this.flush();
    return outcomes;
  }

  /**
   * R5: asks each device's machine (and its server's backoff) whether it may be claimed now;
   * those that may not are reported `backingOff` with the time it ends, and nothing else happens
   * to them: a skipped claim is no new failure and sends nothing.
   */
  async #dueForClaim(
    missing: readonly PeerDevice[],
    outcomes: EstablishOutcome[],
  ): Promise<PeerDevice[]> {
    const due: PeerDevice[] = [];
    for (const device of missing) {
      const at = this.#driver.now();
      const server = this.#serverBackoff.check(serverOf(device.userId), at);
      if (server.kind === "backingOff") {
        outcomes.push(this.#backingOff(device, server.until, "its homeserver is unreachable"));
        continue;
      }
      const driven = await this.#driver.drive(device, { type: "CLAIM_REQUESTED", at });
      const commands = driven.step.kind === "applied" ? driven.step.commands : [];
      const skip = commands.find((command) => command.type === "skipClaim");
      if (skip === undefined) due.push(device);
      else outcomes.push(this.#backingOff(device, skip.until, "its last claim failed"));
    }
    return due;
  }

  #backingOff(device: PeerDevice, until: number, why: string): EstablishOutcome {
    const detail = `not claimed: ${why}; backing off`;
    return { device, outcome: "backingOff", until: this.#clock.toWall(until), detail };
  }

  /** Servers the response names as unreachable back off; every other server answered. */
  #noteServers(devices: readonly PeerDevice[], claimed: ClaimedKeys): void {
    const at = this.#driver.now();
    const servers = new Set(devices.map((device) => serverOf(device.userId)));
    for (const server of servers) {
      if (claimed.isUnreachable(server)) this.#serverBackoff.failed(server, at);
      else this.#serverBackoff.answered(server);
    }
  }

  /**
   * The client tells us these devices' keys changed (its device list was updated, or they
   * published new one-time keys): a claim backoff for them ends now (R5), and so does their
   * server's.
   */
  async devicesChanged(devices: readonly PeerDevice[]): Promise<FlushReport> {
    return this.#safely(async () => {
      const read = readEntries(devices, "devices", readDevice);
      if (!read.ok) return this.#refusedCall(read);
      const { accepted, refused } = this.#acceptAll(read.value, (device) => device);
      for (const device of accepted) {
        this.#serverBackoff.answered(serverOf(device.userId));
        await this.#driver.drive(device, { type: "DEVICE_CHANGED", at: this.#driver.now() });
      }
      if (accepted.length > 0) await this.#commit();
      return this.#refusedEntries(refused);
    });
  }

  #createSession(device: PeerDevice, claimed: ClaimedKeys): EstablishOutcome {
    // Another call (a concurrent share, a reply) may have made a session during the claim: a
    // failure now would send m.no_olm to a device we can reach.
    if (this.#olm.hasSession(device)) return { device, outcome: "existing" };
    const key = claimed.keyFor(device.userId, device.deviceId);
    if (key === undefined) {
      const detail = claimed.isUnreachable(serverOf(device.userId))
        ? "the device's homeserver is unreachable"
        : "no one-time key left";
      return { device, outcome: "failed", detail };
    }
    const created = this.#olm.createOutboundSession(device, key);
    if (created.ok) return { device, outcome: "established" };
    if (this.#olm.hasSession(device)) return { device, outcome: "existing" };
    return { device, outcome: "failed", detail: `${created.reason}: ${created.detail}` };
  }

  /**
   * Sends per-session notices (m.blacklisted, m.unverified, m.unauthorised, m.unavailable): at
   * most one per device and megolm session, however often it is asked for.
   */
  async withholdSessions(requests: readonly SessionWithheldRequest[]): Promise<FlushReport> {
    return this.#safely(async () => {
      const read = readEntries(requests, "requests", readSessionWithheldRequest);
      if (!read.ok) return this.#refusedCall(read);
      const own = this.#olm.ownDevice;
      const { accepted, refused } = this.#acceptAll(read.value, (value) => value.device);
      for (const { device, roomId, sessionId, code, reason } of accepted) {
        const peer = peerKeyOf(device);
        const key = sessionNoticeKey(peer, roomId, sessionId);
        if (this.#sessionNoticesSent.has(key)) continue;
        this.#sessionNoticesSent.add(key);
        // Committed with the request that carries it: queued once, delivered once.
        this.#writer.sessionNotice(key);
        this.#outbox.enqueue({
          userId: device.userId,
          deviceId: device.deviceId,
          eventType: "m.room_key.withheld",
          content: buildSessionWithheldNotice({
            code,
            roomId,
            sessionId,
            senderKey: own.curve25519,
            fromDevice: own.deviceId,
            ...(reason === undefined ? {} : { reason }),
          }),
          origin: { kind: "sessionWithheld", peer, roomId, sessionId },
        });
      }
      if (accepted.length === 0) return this.#refusedEntries(refused);
      return withRefused(await this.flush(), refused);
    });
  }

  /*
   * Every public method below reads its arguments at run time as well (a plain-JS caller can pass
   * anything): what is not of the documented shape is refused, typed, and not acted on.
   */

  /** Takes a to-device event as /sync delivers it. Never throws, never rejects. */
  async handleToDeviceEvent(event: unknown): Promise<IncomingResult> {
    let result: IncomingResult;
    try {
      result = await handleIncoming(
        { olm: this.#olm, devices: this.#devices, driver: this.#driver, received: this.#received },
        event,
      );
    } catch (thrown) {
      // Only reachable through hostile objects (a getter or Proxy trap that throws).
      const detail = `reading the event threw ${describeThrown(thrown, 120)}`;
      return { kind: "rejected", reason: "malformedEvent", detail };
    }
    // What the event changed (a new session, a received notice) is durable before this returns;
    // what it queued (an m.dummy) is sent. Failed requests wait for a flush or the scheduler.
    if (this.#outbox.queuedCount > 0) await this.flush();
    else await this.#commit();
    this.#scheduler.poke();
    return result;
  }

  /**
   * Why an event from `sender` cannot be decrypted, if a withheld notice says: a per-session
   * code from the session's sender first, then m.no_olm for events sent before the last m.no_olm
   * that device sent us, then m.unavailable (which never overrides a more specific code).
   */
  explainUndecryptable(input: UndecryptableQuery): UndecryptableExplanation {
    try {
      const read = readUndecryptableQuery(input);
      if (!read.ok) return { kind: "refused", ...refusalOf(read) };
      const { sender, senderKey, roomId, sessionId, originServerTs } = read.value;
      const specific = this.#received.specific(roomId, sessionId, senderKey);
      if (specific !== undefined)
        return { kind: "explained", ...specific, source: "sessionNotice" };
      const owner = findKeyOwner(this.#devices, sender, senderKey);
      const noticeAt =
        owner.kind === "found"
          ? this.#driver.snapshot(owner.device).context.lastNoticeReceivedAt
          : null;
      // The notice's wall time, as real time elapsed since it came: a clock that was wrong then
      // does not make it explain more now.
      if (noticeAt !== null && originServerTs < this.#clock.toWall(noticeAt)) {
        const reason = defaultWithheldReason("m.no_olm");
        return { kind: "explained", code: "m.no_olm", reason, source: "noOlmNotice" };
      }
      const unavailable = this.#received.unavailable(roomId, sessionId);
      return unavailable === undefined
        ? { kind: "unexplained" }
        : { kind: "explained", ...unavailable, source: "sessionNotice" };
    } catch (thrown) {
      this.#reportError(thrown, "explainUndecryptable");
      return { kind: "unexplained" };
    }
  }

  /** The machine state of one peer device (the initial state for a device it never saw). */
  peerState(device: PeerDevice): Result<PeerSnapshot, Refusal> {
    const read = readDevice(device, ["device"]);
    if (!read.ok) return { ok: false, ...refusalOf(read) };
    return ok(this.#driver.snapshot(read.value));
  }

  /** Requests formed but not yet acknowledged (they go again on the next flush). */
  get pendingRequests(): number {
    return this.#outbox.pendingCount;
  }

  /**
   * When the library next needs to act on its own: now (queued messages, or work a restart left
   * in flight), when the earliest failed request is due for a retry (2 s doubling to 5 min), or
   * never while nothing is pending. A client running its own loop calls `flush()` then; `start()`
   * does that by itself.
   */
  nextWakeAt(): WakeUp {
    try {
      const wall = this.#clock.wall();
      if (this.#driver.resumePending || this.#outbox.queuedCount > 0) {
        return { kind: "due", at: wall, inMs: 0 };
      }
      const retryAt = this.#outbox.nextRetryAt();
      if (retryAt === undefined) return { kind: "idle" };
      const inMs = Math.max(0, retryAt - this.#clock.now());
      return { kind: "due", at: wall + inMs, inMs };
    } catch (thrown) {
      this.#reportError(thrown, "nextWakeAt");
      return { kind: "idle" };
    }
  }

  /**
   * Retries failed requests with backoff and sends what is queued, on timers, until `stop()`.
   * Idempotent. Timers never keep a Node process alive.
   */
  start(): void {
    this.#scheduler.start();
  }

  /** Stops the timers and resolves once every commit issued so far has landed (or failed). */
  async stop(): Promise<void> {
    this.#scheduler.stop();
    await this.#writer.commit();
  }

  /**
   * Sends everything queued, and re-sends failed requests with their original txnId; first, it
   * settles what a restart left in flight (replies start again, pending notices are made sure
   * of). A request is sent by one flush at a time; a slow or hung one (bounded by
   * `callTimeoutMs`) holds up only the flush that sent it, never later flushes or other calls.
   */
  async flush(): Promise<FlushReport> {
    try {
      const report = await this.#flushOnce({ onlyDue: false });
      this.#scheduler.poke();
      return report;
    } catch (thrown) {
      this.#reportError(thrown, "flush");
      return { requests: [], stillPending: this.#outbox.pendingCount, refused: [] };
    }
  }

  async #flushOnce({ onlyDue }: { readonly onlyDue: boolean }): Promise<FlushReport> {
    await this.#driver.resumeAll();
    const report: FlushReport["requests"][number][] = [];
    const tried = new Set<string>();
    for (;;) {
      // Written to the outbox (durably) before the send.
      await this.#commit();
      const now = onlyDue ? this.#clock.now() : undefined;
      const due = this.#outbox.due(now).filter((request) => !tried.has(request.txnId));
      if (due.length === 0) break;
      for (const request of due) {
        tried.add(request.txnId);
        // Claimed now, before any await, so a concurrent flush leaves these to us.
        request.inFlight = true;
      }
      await runPool(due, this.#maxConcurrentRequests, (request) => this.#send(request, report));
    }
    return { requests: report, stillPending: this.#outbox.pendingCount, refused: [] };
  }

  async #send(request: OutboxRequest, report: FlushReport["requests"][number][]): Promise<void> {
    if (request.attempts > 0 && !request.messages.some((m) => this.#driver.stillWanted(m.origin))) {
      request.inFlight = false;
      this.#outbox.remove(request.txnId);
      this.#writer.requestRemoved(request.txnId);
      this.#logRequest("to-device request dropped: nothing in it is still wanted", request);
      return;
    }
    request.attempts += 1;
    let sent = false;
    try {
      const result = await safeSendToDevice(
        this.#transport,
        toSendRequest(request),
        this.#callTimeoutMs,
      );
      sent = result.ok;
    } finally {
      // A sent request stays claimed until it leaves the outbox: no other flush re-sends it.
      if (!sent) request.inFlight = false;
    }
    report.push({ ...pick(request), outcome: sent ? "sent" : "failed" });
    if (!sent) request.retryAt = this.#clock.now() + retryDelayMs(request.attempts);
    this.#logRequest(
      sent ? "to-device request sent" : "to-device request failed; retried later",
      request,
      sent,
    );
    await this.#settle(request.messages, sent);
    if (sent) {
      // Removed only once every message's delivery is recorded (settling awaits hooks, and a
      // concurrent commit may land meanwhile): a crash in between leaves the request stored, and
      // sending it again under its txnId delivers nothing twice.
      this.#outbox.remove(request.txnId);
      this.#writer.requestRemoved(request.txnId);
    }
    await this.#commit();
  }

  /** Tells each message's machine how its request went. */
  async #settle(messages: readonly OutboxMessage[], sent: boolean): Promise<void> {
    for (const { origin } of messages) {
      const settled = this.#driver.settle(origin, sent);
      if (settled instanceof Promise) await settled;
    }
  }

  /** Splits entries into the accepted values and the refusals (malformed, or our own device). */
  #acceptAll<T>(
    entries: readonly Entry<T>[],
    deviceOf: (value: T) => PeerDevice,
  ): { accepted: T[]; refused: Refusal[] } {
    const accepted: T[] = [];
    const refused: Refusal[] = [];
    const own = this.#olm.ownDevice;
    for (const entry of entries) {
      const { index } = entry;
      if (!entry.ok) {
        refused.push({ reason: "invalidArgument", index, path: entry.path, detail: entry.detail });
        continue;
      }
      const device = deviceOf(entry.value);
      const isOwn =
        device.userId === own.userId &&
        (device.deviceId === own.deviceId || device.curve25519 === own.curve25519);
      if (isOwn)
        refused.push({ reason: "ownDevice", index, path: [], detail: "this is our own device" });
      else accepted.push(entry.value);
    }
    return { accepted, refused };
  }

  async #safely(run: () => Promise<FlushReport>): Promise<FlushReport> {
    try {
      return await run();
    } catch (thrown) {
      this.#reportError(thrown, "coordinator");
      return { requests: [], stillPending: this.#outbox.pendingCount, refused: [] };
    }
  }

  #refusedEntries(refused: readonly Refusal[]): FlushReport {
    return { requests: [], stillPending: this.#outbox.pendingCount, refused };
  }

  #refusedCall(read: {
    readonly path: readonly (string | number)[];
    readonly detail: string;
  }): FlushReport {
    return { requests: [], stillPending: this.#outbox.pendingCount, refused: [refusalOf(read)] };
  }

  /** A request's outcome: counts at info (warn if it failed), recipients only at debug. */
  #logRequest(message: string, request: OutboxRequest, sent = true): void {
    const { eventType, txnId, attempts } = request;
    const fields = { eventType, txnId, attempts, messages: request.messages.length };
    if (sent) this.#log.info(message, fields);
    else this.#log.warn(message, { ...fields, retryInMs: retryDelayMs(attempts) });
    if (this.#log.enabled("debug")) {
      const devices = request.messages.map((m) => `${m.userId}/${m.deviceId}`);
      this.#log.debug(message, { ...fields, devices });
    }
  }

  #reportError(thrown: unknown, where: string): void {
    reportHookError(this.#hooks, thrown, where);
  }
}

const refusalOf = (read: {
  readonly path: readonly (string | number)[];
  readonly detail: string;
}): Refusal => ({
  reason: "invalidArgument",
  path: read.path,
  detail: read.detail,
});

const withRefused = (report: FlushReport, refused: readonly Refusal[]): FlushReport =>
  refused.length === 0 ? report : { ...report, refused };

const pick = (request: { txnId: string; eventType: string; messages: readonly unknown[] }) => ({
  txnId: request.txnId,
  eventType: request.eventType,
  messages: request.messages.length,
});

function claimBody(devices: readonly PeerDevice[]) {
  // Null prototypes: a device id such as "__proto__" must stay an ordinary key.
  const body: Record<UserId, Record<DeviceId, "signed_curve25519">> = Object.create(null);
  for (const device of devices) {
    const forUser = body[device.userId] ?? Object.create(null);
    forUser[device.deviceId] = "signed_curve25519";
    body[device.userId] = forUser;
  }
  return body;
}
