import type { Curve25519PublicKey, RoomId, SessionId } from "../events/matrixIds.js";
import type { SessionWithheldContent, UnknownCodeContent } from "../events/withheldContent.js";

/** Why a room key was withheld from us, as a sender told us. */
export interface WithheldReason {
  readonly code: string;
  /** The sender's own text; show it only for codes the client does not understand. */
  readonly reason: string | undefined;
}

const UNAVAILABLE = "m.unavailable";

/**
 * The per-session withheld notices we received. A specific code (blacklisted, unverified, …)
 * counts only when it comes from the device that owns the session's sender key; m.unavailable,
 * a key-request answer any device may give, is kept apart and never overrides a specific code.
 * Bounded: the oldest entries go first, so a flood of notices cannot grow memory without end.
 */
export class ReceivedWithheld {
  readonly #specific = new Map<string, WithheldReason>();
  readonly #unavailable = new Map<string, WithheldReason>();

  constructor(private readonly maxEntries: number) {}

  record(content: SessionWithheldContent | UnknownCodeContent): void {
    const reason: WithheldReason = { code: content.code, reason: content.reason };
    if (content.code === UNAVAILABLE) {
      remember(
        this.#unavailable,
        sessionKey(content.roomId, content.sessionId),
        reason,
        this.maxEntries,
      );
    } else {
      const key = senderSessionKey(content.roomId, content.sessionId, content.senderKey);
      remember(this.#specific, key, reason, this.maxEntries);
    }
  }

  specific(roomId: RoomId, sessionId: SessionId, senderKey: Curve25519PublicKey) {
    return this.#specific.get(senderSessionKey(roomId, sessionId, senderKey));
  }

  unavailable(roomId: RoomId, sessionId: SessionId): WithheldReason | undefined {
    return this.#unavailable.get(sessionKey(roomId, sessionId));
  }

  get size(): number {
    return this.#specific.size + this.#unavailable.size;
  }
}

const sessionKey = (roomId: RoomId, sessionId: SessionId): string =>
  JSON.stringify([roomId, sessionId]);
const senderSessionKey = (roomId: RoomId, sessionId: SessionId, senderKey: string): string =>
  JSON.stringify([roomId, sessionId, senderKey]);

function remember(
  map: Map<string, WithheldReason>,
  key: string,
  value: WithheldReason,
  max: number,
) {
  map.delete(key); // re-insert, so the entry becomes the newest
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}
