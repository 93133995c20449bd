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
export const RETRY_CAP_MS = 5 * 60 * 1000;

export const retryDelayMs = (failedAttempts: number): number =>
  Math.min(RETRY_BASE_MS * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 20), RETRY_CAP_MS);

/**
 * Messages waiting to go out, and the requests they were packed into. A message is packed
 * once; from then on its request is sent, and re-sent after a failure, with the same body and
 * txnId, so the homeserver delivers it at most once however often it is retried.
 */
export class Outbox {
  #queued: OutboxMessage[] = [];
  readonly #requests = new Map<string, OutboxRequest>();

  #fallbackIds = 0;

  constructor(
    private readonly maxMessagesPerRequest: number,
    private readonly newTxnId: () => string,
  ) {}

  enqueue(message: OutboxMessage): void {
    this.#queued.push(message);
  }

  /** Drops queued (never packed) messages the predicate picks; packed ones are past recall. */
  withdraw(picks: (origin: OutboxOrigin) => boolean): number {
    const before = this.#queued.length;
    this.#queued = this.#queued.filter((message) => !picks(message.origin));
    return before - this.#queued.length;
  }

  /** Whether a message the predicate picks is queued or in a request not yet acknowledged. */
  holds(picks: (origin: OutboxOrigin) => boolean): boolean {
    if (this.#queued.some((message) => picks(message.origin))) return true;
    for (const request of this.#requests.values()) {
      if (request.messages.some((message) => picks(message.origin))) return true;
    }
    return false;
  }

  /** Packs every queued message into requests, by event type; returns the requests formed. */
  pack(): OutboxRequest[] {
    const formed: OutboxRequest[] = [];
    while (this.#queued.length > 0) {
      const byType = new Map<string, OutboxMessage[]>();
      for (const message of this.#queued) {
        const list = byType.get(message.eventType);
        if (list === undefined) byType.set(message.eventType, [message]);
        else list.push(message);
      }
      const deferred: OutboxMessage[] = [];
      for (const [eventType, messages] of byType) {
        const packing = packRequests(messages, this.maxMessagesPerRequest);
        for (const request of packing.requests) {
          const txnId = this.#freshTxnId();
          const formedRequest = {
            txnId,
            eventType,
            messages: request,
            attempts: 0,
            inFlight: false,
            retryAt: 0,
          };
          this.#requests.set(txnId, formedRequest);
          formed.push(formedRequest);
        }
        deferred.push(...packing.deferred);
      }
      this.#queued = deferred;
    }
    return formed;
  }

  /**
   * Takes back requests stored before a restart, in their order, with their txnIds. Each counts
   * as tried once: it may have reached the homeserver before the restart.
   */
  restore(
    requests: readonly { txnId: string; eventType: string; messages: readonly OutboxMessage[] }[],
  ): void {
    for (const { txnId, eventType, messages } of requests) {
      if (this.#requests.has(txnId)) continue;
      this.#requests.set(txnId, {
        txnId,
        eventType,
        messages,
        attempts: 1,
        inFlight: false,
        retryAt: 0,
      });
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
    this.#requests.delete(txnId);
  }

  get queuedCount(): number {
    return this.#queued.length;
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
