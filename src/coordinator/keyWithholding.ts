import { type DeviceDirectory, type PeerDevice, peerKeyOf } from "../devices/peerDevice.js";
import { buildSessionWithheldNotice } from "../events/buildNotice.js";
import type { DeviceId, UserId } from "../events/matrixIds.js";
import { defaultWithheldReason } from "../events/withheldCode.js";
import { type PeerSnapshot, peerLeaves } from "../machine/peerSnapshot.js";
import type { OlmBackend } from "../olm/olmBackend.js";
import { InMemoryPeerStore, type PeerStore } from "../store/peerStore.js";
import {
  type ClaimedKeys,
  parseKeysClaimResponse,
  serverOf,
} from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { handleIncoming } from "./incomingEvent.js";
import type {
  EstablishOutcome,
  FlushReport,
  IncomingResult,
  KeyWithholdingHooks,
  SessionWithheldRequest,
  ShareOutcome,
  UndecryptableExplanation,
  UndecryptableQuery,
} from "./keyWithholdingTypes.js";
import { Outbox, type OutboxMessage, toSendRequest } from "./outbox.js";
import { PeerDriver } from "./peerDriver.js";
import { ReceivedWithheld } from "./receivedWithheld.js";
import { safeClaimKeys, safeSendToDevice } from "./safeTransport.js";

export interface KeyWithholdingOptions {
  /** Our Olm account; our user id, device id and keys come from it. */
  readonly olm: OlmBackend;
  readonly transport: Transport;
  /** The client's device list: who owns which keys. */
  readonly devices: DeviceDirectory;
  readonly store?: PeerStore;
  /** Milliseconds; the only clock the library reads. Default `Date.now`. */
  readonly clock?: () => number;
  readonly hooks?: KeyWithholdingHooks;
  /** Default 250. */
  readonly maxMessagesPerRequest?: number;
  /** Default: a random UUID per request. Must be unique per access token. */
  readonly newTxnId?: () => string;
  /** The `reason` text of our m.no_olm notices. */
  readonly noOlmReason?: string;
  /** How many received per-session notices to remember. Default 100,000. */
  readonly maxReceivedWithheld?: number;
}

export const DEFAULT_MAX_MESSAGES_PER_REQUEST = 250;

/** Creates the object a client's crypto layer embeds. See the integration guide. */
export function createKeyWithholding(options: KeyWithholdingOptions): KeyWithholding {
  return new KeyWithholding(options);
}

/**
 * One per logged-in device. Owns a machine per peer device (keyed by user id, device id and
 * curve25519 key), carries out their commands over the Olm backend and the transport, and
 * batches what they send into to-device requests.
 */
export class KeyWithholding {
  readonly #olm: OlmBackend;
  readonly #transport: Transport;
  readonly #devices: DeviceDirectory;
  readonly #outbox: Outbox;
  readonly #driver: PeerDriver;
  readonly #received: ReceivedWithheld;
  readonly #sessionNoticesSent = new Set<string>();
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(options: KeyWithholdingOptions) {
    this.#olm = options.olm;
    this.#transport = options.transport;
    this.#devices = options.devices;
    this.#outbox = new Outbox(
      options.maxMessagesPerRequest ?? DEFAULT_MAX_MESSAGES_PER_REQUEST,
      options.newTxnId ?? (() => `mkw.${globalThis.crypto.randomUUID()}`),
    );
    this.#received = new ReceivedWithheld(options.maxReceivedWithheld ?? 100_000);
    this.#driver = new PeerDriver({
      olm: options.olm,
      transport: options.transport,
      store: options.store ?? new InMemoryPeerStore(),
      outbox: this.#outbox,
      hooks: options.hooks ?? {},
      clock: options.clock ?? Date.now,
      noOlmReason: options.noOlmReason,
    });
  }

  /**
   * The crypto layer tells us, per device, whether it has an Olm session after trying to share
   * a room key. Notices that become due are sent in as few requests as possible.
   */
  async reportShareOutcomes(outcomes: readonly ShareOutcome[]): Promise<FlushReport> {
    for (const { device, outcome } of outcomes) {
      const at = this.#driver.now();
      await this.#driver.drive(
        device,
        outcome === "established"
          ? { type: "SESSION_ESTABLISHED", at, origin: "outbound" }
          : { type: "ESTABLISH_FAILED", at },
      );
    }
    return this.flush();
  }

  /**
   * Makes sure an Olm session exists with each device: claims one-time keys for those without
   * one (one /keys/claim for all), verifies and uses them, and reports every outcome to the
   * devices' machines; notices for the failures go out before this resolves.
   */
  async establishSessions(devices: readonly PeerDevice[]): Promise<readonly EstablishOutcome[]> {
    const outcomes: EstablishOutcome[] = [];
    const missing: PeerDevice[] = [];
    for (const device of devices) {
      if (!this.#olm.hasSession(device)) {
        missing.push(device);
        continue;
      }
      outcomes.push({ device, outcome: "existing" });
      // Keep the machine in step with the backend (a session restored from elsewhere), without
      // a step per device per share when it already knows.
      if (peerLeaves(this.#driver.snapshot(device).value).olm !== "established") {
        await this.#driver.drive(device, {
          type: "SESSION_ESTABLISHED",
          at: this.#driver.now(),
          origin: "existing",
        });
      }
    }
    if (missing.length > 0) {
      const response = await safeClaimKeys(this.#transport, {
        one_time_keys: claimBody(missing),
        timeout: 10_000,
      });
      const claimed = response.ok ? parseKeysClaimResponse(response.value) : response;
      for (const device of missing) {
        const outcome = claimed.ok
          ? this.#createSession(device, claimed.value)
          : ({ device, outcome: "failed", detail: claimed.detail } as const);
        outcomes.push(outcome);
        const at = this.#driver.now();
        await this.#driver.drive(
          device,
          outcome.outcome === "established"
            ? { type: "SESSION_ESTABLISHED", at, origin: "outbound" }
            : { type: "ESTABLISH_FAILED", at },
        );
      }
    }
    await this.flush();
    return outcomes;
  }

  #createSession(device: PeerDevice, claimed: ClaimedKeys): EstablishOutcome {
    const key = claimed.keyFor(device.userId, device.deviceId);
    if (key === undefined) {
      const unreachable = claimed.unreachableServers.includes(serverOf(device.userId));
      const detail = unreachable
        ? "the device's homeserver is unreachable"
        : "no one-time key left";
      return { device, outcome: "failed", detail };
    }
    const created = this.#olm.createOutboundSession(device, key);
    return created.ok
      ? { device, outcome: "established" }
      : { device, outcome: "failed", detail: `${created.reason}: ${created.detail}` };
  }

  /**
   * Sends per-session notices (m.blacklisted, m.unverified, m.unauthorised, m.unavailable): at
   * most one per device and megolm session, however often it is asked for.
   */
  async withholdSessions(requests: readonly SessionWithheldRequest[]): Promise<FlushReport> {
    const own = this.#olm.ownDevice;
    for (const request of requests) {
      const { device, roomId, sessionId } = request;
      const peer = peerKeyOf(device);
      const key = JSON.stringify([peer, roomId, sessionId]);
      if (this.#sessionNoticesSent.has(key)) continue;
      this.#sessionNoticesSent.add(key);
      this.#outbox.enqueue({
        userId: device.userId,
        deviceId: device.deviceId,
        eventType: "m.room_key.withheld",
        content: buildSessionWithheldNotice({
          code: request.code,
          roomId,
          sessionId,
          senderKey: own.curve25519,
          fromDevice: own.deviceId,
          ...(request.reason === undefined ? {} : { reason: request.reason }),
        }),
        origin: { kind: "sessionWithheld", peer, roomId, sessionId },
      });
    }
    return this.flush();
  }

  /** Takes a to-device event as /sync delivers it. Never throws. */
  async handleToDeviceEvent(event: unknown): Promise<IncomingResult> {
    let result: IncomingResult;
    try {
      result = await handleIncoming(
        { olm: this.#olm, devices: this.#devices, driver: this.#driver, received: this.#received },
        event,
      );
    } catch (error) {
      // Only reachable through hostile objects (throwing getters) or a throwing device list.
      const detail = error instanceof Error ? error.message.slice(0, 200) : typeof error;
      return { kind: "rejected", reason: "malformedEvent", detail: `unreadable event: ${detail}` };
    }
    // Send what this event queued (an m.dummy); failed requests wait for the client's flush().
    if (this.#outbox.queuedCount > 0) await this.flush();
    return result;
  }

  /**
   * Why an event from `sender` cannot be decrypted, if a withheld notice says: a per-session
   * code from the session's sender first, then m.no_olm for events sent before the last m.no_olm
   * that device sent us, then m.unavailable (which never overrides a more specific code).
   */
  explainUndecryptable(query: UndecryptableQuery): UndecryptableExplanation | undefined {
    const { sender, senderKey, roomId, sessionId, originServerTs } = query;
    const specific = this.#received.specific(roomId, sessionId, senderKey);
    if (specific !== undefined) return { ...specific, source: "sessionNotice" };
    const device = this.#devices.findByCurve25519(sender, senderKey);
    const noticeAt =
      device === undefined ? null : this.#driver.snapshot(device).context.lastNoticeReceivedAt;
    if (noticeAt !== null && originServerTs < noticeAt) {
      return { code: "m.no_olm", reason: defaultWithheldReason("m.no_olm"), source: "noOlmNotice" };
    }
    const unavailable = this.#received.unavailable(roomId, sessionId);
    return unavailable === undefined ? undefined : { ...unavailable, source: "sessionNotice" };
  }

  /** The machine state of one peer device (a copy-free, read-only snapshot). */
  peerState(device: PeerDevice): PeerSnapshot {
    return this.#driver.snapshot(device);
  }

  /** Requests formed but not yet acknowledged (they go again on the next flush). */
  get pendingRequests(): number {
    return this.#outbox.pending().length;
  }

  /**
   * Sends everything queued, and re-sends failed requests with their original txnId. Flushes
   * never overlap: a call waits for the one in progress.
   */
  flush(): Promise<FlushReport> {
    const run = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  async #flushOnce(): Promise<FlushReport> {
    const report: FlushReport["requests"][number][] = [];
    const tried = new Set<string>();
    for (;;) {
      this.#outbox.pack();
      const due = this.#outbox.pending().filter((request) => !tried.has(request.txnId));
      if (due.length === 0) break;
      for (const request of due) {
        tried.add(request.txnId);
        if (request.attempts > 0 && !this.#stillWanted(request.messages)) {
          this.#outbox.remove(request.txnId);
          continue;
        }
        request.attempts += 1;
        const sent = await safeSendToDevice(this.#transport, toSendRequest(request));
        const outcome = sent.ok ? "sent" : "failed";
        report.push({ ...pick(request), outcome });
        await this.#settle(request.txnId, request.messages, sent.ok);
      }
    }
    return { requests: report, stillPending: this.#outbox.pending().length };
  }

  /**
   * Whether a failed request is still worth sending: it carries a reply or a per-session notice,
   * or an m.no_olm whose episode is still waiting for it (a session may have ended the episode).
   */
  #stillWanted(messages: readonly OutboxMessage[]): boolean {
    return messages.some(({ origin }) => {
      if (origin.kind !== "noOlm") return true;
      const device = this.#driver.deviceFor(origin.peer);
      if (device === undefined) return false;
      const snapshot = this.#driver.snapshot(device);
      return (
        peerLeaves(snapshot.value).olm === "noticePending" &&
        snapshot.context.noticeId === origin.noticeId
      );
    });
  }

  /** Tells each notice's machine how its request went; a sent request leaves the outbox. */
  async #settle(txnId: string, messages: readonly OutboxMessage[], sent: boolean): Promise<void> {
    if (sent) this.#outbox.remove(txnId);
    for (const { origin } of messages) {
      if (origin.kind !== "noOlm") continue;
      const device = this.#driver.deviceFor(origin.peer);
      if (device === undefined) continue;
      const at = this.#driver.now();
      const { noticeId } = origin;
      await this.#driver.drive(
        device,
        sent ? { type: "NOTICE_SENT", at, noticeId } : { type: "NOTICE_SEND_FAILED", at, noticeId },
      );
    }
  }
}

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
