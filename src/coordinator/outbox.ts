import type { PeerKey } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import type { DeviceId, RoomId, SessionId, UserId } from "../events/matrixIds.js";
import type { SendToDeviceRequest, ToDeviceMessages } from "../transport/transport.js";
import { packRequests } from "./packRequests.js";

/** Why a message is in the outbox; acks and failures are routed back by it. */
export type OutboxOrigin =
  | { readonly kind: "noOlm"; readonly peer: PeerKey; readonly noticeId: number }
  | {
      readonly kind: "sessionWithheld";
      readonly peer: PeerKey;
      readonly roomId: RoomId;
      readonly sessionId: SessionId;
    }
  | { readonly kind: "dummy"; readonly peer: PeerKey; readonly replyId: number };

export interface OutboxMessage {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  readonly eventType: string;
  readonly content: JsonObject;
  readonly origin: OutboxOrigin;
}

/** A to-device request once formed: its messages and txnId never change again. */
export interface OutboxRequest {
  readonly txnId: string;
  readonly eventType: string;
  readonly messages: readonly OutboxMessage[];
  attempts: number;
  /** Being sent by some flush: no other flush touches it until that send has an outcome. */
  inFlight: boolean;
  /** Protocol time before which the scheduler does not retry it (0: at once). */
  retryAt: number;
}

/** Retries of a failed request wait 2 s × 2ⁿ, capped at 5 minutes (an explicit flush does not wait). */
export const RETRY_BASE_MS = 2_000;
/**
 * The longest the scheduler (`start()`) waits before retrying a failed request, in ms of
 * protocol time (5 min), however many attempts failed. `flush()` retries at once regardless.
 */
export const RETRY_CAP_MS = 5 * 60 * 1000;

export const retryDelayMs = (failedAttempts: number): number =>
  Math.min(RETRY_BASE_MS * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 20), RETRY_CAP_MS);

/**
 * Messages waiting to go out, and the requests they were packed into. A message is packed
 * once; from then on its request is sent, and re-sent after a failure, with the same body and
 * txnId, so the homeserver delivers it at most once however often it is retried.
 */
export class Outbox {
  /** Queued messages in order, by sequence number, and where each origin's are. */
  readonly #queued = new Map<number, OutboxMessage>();
  readonly #queuedByOrigin = new Map<string, number[]>();
  #sequence = 0;
  readonly #requests = new Map<string, OutboxRequest>();
  /** The request each packed message is in, by origin: `holds` in constant time. */
  readonly #packedByOrigin = new Map<string, string>();

  #fallbackIds = 0;

  constructor(
    private readonly maxMessagesPerRequest: number,
    private readonly newTxnId: () => string,
  ) {}

  enqueue(message: OutboxMessage): void {
    const sequence = this.#sequence++;
    this.#queued.set(sequence, message);
    const key = originKey(message.origin);
    const same = this.#queuedByOrigin.get(key);
    if (same === undefined) this.#queuedByOrigin.set(key, [sequence]);
    else same.push(sequence);
  }

  /** Drops the queued (never packed) messages of this origin; packed ones are past recall. */
  withdraw(origin: OutboxOrigin): number {
    const key = originKey(origin);
    const sequences = this.#queuedByOrigin.get(key);
    if (sequences === undefined) return 0;
    this.#queuedByOrigin.delete(key);
    for (const sequence of sequences) this.#queued.delete(sequence);
    return sequences.length;
  }

  /** Whether a message of this origin is queued or in a request not yet acknowledged. */
  holds(origin: OutboxOrigin): boolean {
    const key = originKey(origin);
    return this.#queuedByOrigin.has(key) || this.#packedByOrigin.has(key);
  }

  /**
   * Packs every queued message into requests, by event type; returns the requests formed. A
   * request holds one message per device, so a device's second message goes in the next round
   * of requests, its third in the one after: rounds are formed in order, each event type in the
   * order it was first queued.
   */
  pack(): OutboxRequest[] {
    const rounds: Map<string, OutboxMessage[]>[] = [];
    const seen = new Map<string, Map<string, number>>();
    for (const message of this.#queued.values()) {
      let perType = seen.get(message.eventType);
      if (perType === undefined) {
        perType = new Map();
        seen.set(message.eventType, perType);
      }
      const device = `${message.userId}\u0000${message.deviceId}`;
      const round = perType.get(device) ?? 0;
      perType.set(device, round + 1);
      let byType = rounds[round];
      if (byType === undefined) {
        byType = new Map();
        rounds.push(byType);
      }
      const list = byType.get(message.eventType);
      if (list === undefined) byType.set(message.eventType, [message]);
      else list.push(message);
    }
    this.#queued.clear();
    this.#queuedByOrigin.clear();
    const formed: OutboxRequest[] = [];
    for (const byType of rounds) {
      for (const [eventType, messages] of byType) {
        // One message per device in each round, so nothing is deferred.
        for (const request of packRequests(messages, this.maxMessagesPerRequest).requests) {
          formed.push(this.#add(this.#freshTxnId(), eventType, request, 0));
        }
      }
    }
    return formed;
  }

  #add(
    txnId: string,
    eventType: string,
    messages: readonly OutboxMessage[],
    attempts: number,
  ): OutboxRequest {
    const request = { txnId, eventType, messages, attempts, inFlight: false, retryAt: 0 };
    this.#requests.set(txnId, request);
    for (const message of messages) this.#packedByOrigin.set(originKey(message.origin), txnId);
    return request;
  }

  /**
   * Takes back requests stored before a restart, in their order, with their txnIds. Each counts
   * as tried once: it may have reached the homeserver before the restart.
   */
  restore(
    requests: readonly { txnId: string; eventType: string; messages: readonly OutboxMessage[] }[],
  ): void {
    for (const { txnId, eventType, messages } of requests) {
      if (!this.#requests.has(txnId)) this.#add(txnId, eventType, messages, 1);
    }
  }

  /** Requests formed and not yet acknowledged, oldest first. */
  pending(): OutboxRequest[] {
    return [...this.#requests.values()];
  }

  /** Pending requests no flush is sending right now (and, given a time, whose retry is due). */
  due(now?: number): OutboxRequest[] {
    return this.pending().filter(
      (request) => !request.inFlight && (now === undefined || request.retryAt <= now),
    );
  }

  /** The earliest protocol time a pending request not in flight may be retried, if any. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const request of this.#requests.values()) {
      if (!request.inFlight && (next === undefined || request.retryAt < next)) {
        next = request.retryAt;
      }
    }
    return next;
  }

  get pendingCount(): number {
    return this.#requests.size;
  }

  /**
   * The client's txnId source is untrusted too: an id that is not a fresh, sane string would make
   * the server drop a request as a duplicate (a lost notice), so it is replaced by one of ours.
   */
  #freshTxnId(): string {
    let id: unknown;
    try {
      id = this.newTxnId();
    } catch {
      id = undefined;
    }
    if (typeof id === "string" && isUsableTxnId(id) && !this.#requests.has(id)) return id;
    this.#fallbackIds += 1;
    return `mkw.${randomHex(16)}.${this.#fallbackIds}`;
  }

  remove(txnId: string): void {
    const request = this.#requests.get(txnId);
    if (request === undefined) return;
    this.#requests.delete(txnId);
    for (const message of request.messages) {
      const key = originKey(message.origin);
      if (this.#packedByOrigin.get(key) === txnId) this.#packedByOrigin.delete(key);
    }
  }

  get queuedCount(): number {
    return this.#queued.size;
  }
}

/** One string per origin: what `withdraw` and `holds` look messages up by. */
function originKey(origin: OutboxOrigin): string {
  switch (origin.kind) {
    case "noOlm":
      return `n${origin.noticeId}\u0000${origin.peer}`;
    case "dummy":
      return `d${origin.replyId}\u0000${origin.peer}`;
    case "sessionWithheld":
      return `s${origin.roomId}\u0000${origin.sessionId}\u0000${origin.peer}`;
  }
}

// The txnId is a URL path segment: keep it to unreserved characters.
const TXN_ID = /^[A-Za-z0-9._~-]{1,255}$/;

export const isUsableTxnId = (id: string): boolean => TXN_ID.test(id);

/** Random hex from `getRandomValues`, which (unlike `randomUUID`) exists outside secure contexts. */
export function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The default txnId source: a random prefix drawn once per coordinator, then a counter. Unique
 * for this device's access token (a restart or a second coordinator draws a new prefix), and one
 * draw instead of one per request: `getRandomValues` and the hex formatting were a tenth of the
 * time of answering an m.no_olm.
 */
export function randomTxnIds(): () => string {
  const prefix = `mkw.${randomHex(16)}.`;
  let counter = 0;
  return () => {
    counter += 1;
    return `${prefix}${counter}`;
  };
}

/** The wire form of a request. */
export function toSendRequest(request: OutboxRequest): SendToDeviceRequest {
  // Null prototypes: a device id such as "__proto__" must stay an ordinary key.
  const messages: Record<string, Record<string, JsonObject>> = Object.create(null);
  for (const message of request.messages) {
    const forUser = messages[message.userId] ?? Object.create(null);
    forUser[message.deviceId] = message.content;
    messages[message.userId] = forUser;
  }
  return {
    eventType: request.eventType,
    txnId: request.txnId,
    body: { messages: messages as ToDeviceMessages },
  };
}
