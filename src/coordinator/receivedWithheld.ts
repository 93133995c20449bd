import type { Curve25519PublicKey, RoomId, SessionId } from "../events/matrixIds.js";
import { isSpecWithheldCode } from "../events/withheldCode.js";
import {
  clipReason,
  type SessionWithheldContent,
  type UnknownCodeContent,
} from "../events/withheldContent.js";
import type { StoredReceivedWithheld } from "../store/keyWithholdingStore.js";

/** Why a room key was withheld from us, as a sender told us. */
export interface WithheldReason {
  readonly code: string;
  /** The sender's own text; show it only for codes the client does not understand. */
  readonly reason: string | undefined;
}

/** How much ReceivedWithheld keeps; each bound is shared fairly between sending devices. */
export interface ReceivedWithheldLimits {
  /** Reasons kept in all, across every sender. */
  readonly maxEntries?: number;
  /** Approximate bytes kept in all (see `ReceivedWithheld.bytes`). */
  readonly maxBytes?: number;
  /** Sending devices (curve25519 sender keys) tracked at once. */
  readonly maxSenders?: number;
}

/** Where a durable coordinator writes what is recorded and evicted. */
export interface ReceivedWithheldChanges {
  put(record: StoredReceivedWithheld): void;
  removed(id: string): void;
}

const noChanges: ReceivedWithheldChanges = { put: () => {}, removed: () => {} };

/**
 * - maxEntries 100,000: the coordinator's long-standing default.
 * - maxSenders 1,000: notices come only from devices in our device list (users we share
 *   encrypted rooms with), and a thousand of them all sending us notices is a very large
 *   account. It makes every sender's guaranteed share 100 reasons: its notices for its 100
 *   most recent sessions (a device's Megolm session rotates per room weekly or every 100
 *   messages), and more whenever other senders leave room.
 * - maxBytes 48 MiB: 100,000 typical notices (~400 bytes each: ids, code, a short reason)
 *   take ~40 MB, so the entry bound binds first for honest traffic; the byte bound binds only
 *   for long reasons, and gives each sender a 48 KiB share: five notices with a reason at the
 *   4,096-unit MAX_REASON_LENGTH, or ~120 typical ones, even when every sender is full.
 */
export const DEFAULT_RECEIVED_WITHHELD_LIMITS = {
  maxEntries: 100_000,
  maxBytes: 48 * 1024 * 1024,
  maxSenders: 1_000,
} as const;

const UNAVAILABLE = "m.unavailable";

// Rough V8 costs: a Map entry, the reason object and the string headers; and, per sender, its
// log's Map. Strings count two bytes per UTF-16 unit. The point is a bound, not an exact figure.
const ENTRY_OVERHEAD_BYTES = 128;
const INDEX_OVERHEAD_BYTES = 128;
const SENDER_OVERHEAD_BYTES = 256;

interface StoredReason {
  readonly reason: WithheldReason;
  readonly bytes: number;
  /** Set for m.unavailable, which is also indexed by room and session for any sender. */
  readonly unavailableKey: string | undefined;
}

/** One sending device's reasons, oldest first. */
class SenderLog {
  readonly entries = new Map<string, StoredReason>();
  bytes: number;

  constructor(readonly senderKey: string) {
    this.bytes = SENDER_OVERHEAD_BYTES + 2 * senderKey.length;
  }
}

/**
 * The per-session withheld notices we received. A specific code (blacklisted, unverified, …)
 * counts only when it comes from the device that owns the session's sender key; m.unavailable,
 * a key-request answer any device may give, is kept apart and never overrides a specific code.
 *
 * Bounded in entries, bytes and senders, and partitioned by sending device (the content's
 * `sender_key`, which the coordinator has checked belongs to the device that sent it; for
 * m.unavailable that is the answering device). With S = maxSenders, every sender is
 * guaranteed a share of maxEntries / S reasons and maxBytes / S bytes: when the store is full,
 * the entry evicted is the oldest of a sender above its share, the recording sender first.
 * So a flood evicts the flooder's own notices, and a sender within its share loses an entry
 * only by recording a newer one itself, or by being the least recently heard of more than S
 * senders (which takes S other devices in our device list, all sending after it).
 * An over-long reason is clipped to MAX_REASON_LENGTH, so with parsed ids (at most 255
 * characters each) one entry costs at most ~11 kB, ~8.5 kB with ids of typical length.
 * `record` is O(1) amortized (each entry is inserted and evicted at most once; forgetting a
 * sender costs its own entries); `unavailable` is O(devices that answered for that session).
 */
export class ReceivedWithheld {
  /** Least recently recording first. */
  readonly #senders = new Map<string, SenderLog>();
  /** Room and session → answering sender key → reason, newest last. */
  readonly #unavailable = new Map<string, Map<string, WithheldReason>>();
  readonly #overEntryShare = new Set<SenderLog>();
  readonly #overByteShare = new Set<SenderLog>();
  readonly #limits: Required<ReceivedWithheldLimits>;
  readonly #entryShare: number;
  readonly #byteShare: number;
  #entries = 0;
  #bytes = 0;
  #seq = 0;
  #changes: ReceivedWithheldChanges;

  /** A number is `maxEntries`, the other limits taking their defaults. */
  constructor(
    limits: number | ReceivedWithheldLimits = {},
    changes: ReceivedWithheldChanges = noChanges,
  ) {
    this.#changes = changes;
    const given = typeof limits === "number" ? { maxEntries: limits } : limits;
    this.#limits = {
      maxEntries: bound("maxEntries", given.maxEntries, 0),
      maxBytes: bound("maxBytes", given.maxBytes, 0),
      maxSenders: bound("maxSenders", given.maxSenders, 1),
    };
    // S × share ≤ total, so whenever a total is exceeded some sender is above its share.
    this.#entryShare = Math.floor(this.#limits.maxEntries / this.#limits.maxSenders);
    this.#byteShare = Math.floor(this.#limits.maxBytes / this.#limits.maxSenders);
  }

  record(content: SessionWithheldContent | UnknownCodeContent): void {
    this.#seq += 1;
    this.#record(content, this.#seq);
  }

  /**
   * Records stored ones again, oldest first, without reporting them as changes (the bounds
   * apply again, so a store written under larger limits is trimmed; what is trimmed is reported
   * as removed).
   */
  restore(records: readonly StoredReceivedWithheld[]): void {
    for (const stored of [...records].sort((a, b) => a.seq - b.seq)) {
      this.#seq = Math.max(this.#seq, stored.seq);
      const restoring = this.#changes;
      this.#changes = { put: () => {}, removed: restoring.removed };
      try {
        this.#record(
          {
            kind: isSpecWithheldCode(stored.code) ? "session" : "unknownCode",
            code: stored.code,
            senderKey: stored.senderKey as Curve25519PublicKey,
            roomId: stored.roomId as RoomId,
            sessionId: stored.sessionId as SessionId,
            ...(stored.reason === undefined ? {} : { reason: stored.reason }),
          } as SessionWithheldContent | UnknownCodeContent,
          stored.seq,
        );
      } finally {
        this.#changes = restoring;
      }
    }
  }

  #record(content: SessionWithheldContent | UnknownCodeContent, seq: number): void {
    const reason: WithheldReason = {
      code: content.code,
      reason: content.reason === undefined ? undefined : clipReason(content.reason),
    };
    const session = sessionKey(content.roomId, content.sessionId);
    const isUnavailable = content.code === UNAVAILABLE;
    const key = `${isUnavailable ? "u" : "s"}${session}`;
    const log = this.#logFor(content.senderKey);
    this.#remove(log, key); // re-insert, so the entry becomes the newest
    const bytes =
      ENTRY_OVERHEAD_BYTES +
      2 * (key.length + reason.code.length + (reason.reason?.length ?? 0)) +
      (isUnavailable ? INDEX_OVERHEAD_BYTES + 2 * session.length : 0);
    log.entries.set(key, { reason, bytes, unavailableKey: isUnavailable ? session : undefined });
    this.#changes.put({
      id: recordId(log.senderKey, key),
      seq,
      senderKey: log.senderKey,
      roomId: content.roomId,
      sessionId: content.sessionId,
      code: reason.code,
      ...(reason.reason === undefined ? {} : { reason: reason.reason }),
    });
    log.bytes += bytes;
    this.#entries += 1;
    this.#bytes += bytes;
    if (isUnavailable) {
      const answers = this.#unavailable.get(session) ?? new Map<string, WithheldReason>();
      answers.delete(log.senderKey);
      answers.set(log.senderKey, reason);
      this.#unavailable.set(session, answers);
    }
    this.#classify(log);
    this.#enforce(log);
  }

  specific(
    roomId: RoomId,
    sessionId: SessionId,
    senderKey: Curve25519PublicKey,
  ): WithheldReason | undefined {
    return this.#senders.get(senderKey)?.entries.get(`s${sessionKey(roomId, sessionId)}`)?.reason;
  }

  /** The newest m.unavailable any device sent us for this session. */
  unavailable(roomId: RoomId, sessionId: SessionId): WithheldReason | undefined {
    const answers = this.#unavailable.get(sessionKey(roomId, sessionId));
    let newest: WithheldReason | undefined;
    // At most one answer per tracked sender; the last one inserted is the newest.
    for (const answer of answers?.values() ?? []) newest = answer;
    return newest;
  }

  /** Reasons kept. */
  get size(): number {
    return this.#entries;
  }

  /** The approximate memory held, never above `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sending devices with at least one reason kept. */
  get senders(): number {
    return this.#senders.size;
  }

  #logFor(senderKey: string): SenderLog {
    const existing = this.#senders.get(senderKey);
    if (existing !== undefined) {
      this.#senders.delete(senderKey); // re-insert, so the sender becomes the most recent
      this.#senders.set(senderKey, existing);
      return existing;
    }
    if (this.#senders.size >= this.#limits.maxSenders) {
      const leastRecent = this.#senders.values().next();
      if (leastRecent.done !== true) this.#forgetSender(leastRecent.value);
    }
    const log = new SenderLog(senderKey);
    this.#senders.set(senderKey, log);
    this.#bytes += log.bytes;
    return log;
  }

  #enforce(recorder: SenderLog): void {
    while (this.#entries > this.#limits.maxEntries) {
      if (!this.#evictOldest(pick(this.#overEntryShare, recorder))) break;
    }
    while (this.#bytes > this.#limits.maxBytes) {
      if (!this.#evictOldest(pick(this.#overByteShare, recorder))) break;
    }
  }

  /** False when there was nothing left to evict (which the share arithmetic rules out). */
  #evictOldest(log: SenderLog): boolean {
    if (this.#senders.get(log.senderKey) !== log) return false;
    const oldest = log.entries.keys().next();
    if (oldest.done !== true) this.#evict(log, oldest.value);
    if (log.entries.size === 0) this.#forgetSender(log);
    else this.#classify(log);
    return true;
  }

  #evict(log: SenderLog, key: string): void {
    this.#remove(log, key);
    this.#changes.removed(recordId(log.senderKey, key));
  }

  #remove(log: SenderLog, key: string): void {
    const stored = log.entries.get(key);
    if (stored === undefined) return;
    log.entries.delete(key);
    log.bytes -= stored.bytes;
    this.#entries -= 1;
    this.#bytes -= stored.bytes;
    if (stored.unavailableKey !== undefined) {
      const answers = this.#unavailable.get(stored.unavailableKey);
      answers?.delete(log.senderKey);
      if (answers?.size === 0) this.#unavailable.delete(stored.unavailableKey);
    }
  }

  #forgetSender(log: SenderLog): void {
    if (this.#senders.get(log.senderKey) !== log) return;
    for (const key of [...log.entries.keys()]) this.#evict(log, key);
    this.#senders.delete(log.senderKey);
    this.#overEntryShare.delete(log);
    this.#overByteShare.delete(log);
    this.#bytes -= log.bytes;
  }

  #classify(log: SenderLog): void {
    toggle(this.#overEntryShare, log, log.entries.size > this.#entryShare);
    toggle(this.#overByteShare, log, log.bytes > this.#byteShare);
  }
}

const recordId = (senderKey: string, key: string): string => `${senderKey}|${key}`;

const sessionKey = (roomId: RoomId, sessionId: SessionId): string =>
  JSON.stringify([roomId, sessionId]);

/** The recorder if it is above its share, else the sender that went above it first. */
function pick(overShare: ReadonlySet<SenderLog>, recorder: SenderLog): SenderLog {
  if (overShare.has(recorder)) return recorder;
  const first = overShare.values().next();
  // Never empty while a total is exceeded (S × share ≤ total); the fallback only ends the loop.
  return first.done === true ? recorder : first.value;
}

function toggle(set: Set<SenderLog>, log: SenderLog, member: boolean): void {
  if (member) set.add(log);
  else set.delete(log);
}

function bound(name: string, value: number | undefined, min: number): number {
  const chosen = value ?? DEFAULT_RECEIVED_WITHHELD_LIMITS[name as keyof ReceivedWithheldLimits];
  if (Number.isNaN(chosen) || chosen < min) {
    throw new RangeError(`ReceivedWithheld: ${name} must be at least ${min}, got ${chosen}.`);
  }
  return Math.floor(chosen);
}
