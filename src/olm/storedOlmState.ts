import { type Curve25519PublicKey, parseCurve25519PublicKey } from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { olmByteLength } from "./olmInputLimits.js";
import { MAX_ACCOUNT_PICKLE_BYTES, MAX_SESSION_PICKLE_BYTES } from "./olmPickles.js";

/** A stored Olm state that passed every check a store's answer can be given without libolm. */
export interface CheckedOlmState {
  readonly account: string;
  readonly peers: readonly CheckedPeer[];
}

export interface CheckedPeer {
  readonly peer: Curve25519PublicKey;
  /** At most `maxPerPeer`, best first. */
  readonly pickles: readonly string[];
  /** True when the store held more than `maxPerPeer` (the worst were left out). */
  readonly trimmed: boolean;
}

export interface StoredStateBounds {
  readonly maxPeers: number;
  readonly maxPerPeer: number;
}

/**
 * Checks what `loadOlm` returned, which is untrusted: its shape, every size, and the counts, so
 * that no more than the bounds' worth of work is done and nothing oversized reaches libolm. Reads
 * own data properties only; a getter or a proxy that throws is a wrong shape, not a throw.
 *
 * A peer with more sessions than `maxPerPeer` (a client that lowered the option) keeps its best
 * `maxPerPeer`, as the running backend would have, and is reported trimmed so the next commit
 * stores the shorter list. More peers than `maxPeers` is refused: a store carries no order across
 * peers to choose by, and raising the option opens it.
 */
export function checkStoredOlmState(
  value: unknown,
  bounds: StoredStateBounds,
): Result<CheckedOlmState, AccountFailure> {
  try {
    return check(value, bounds);
  } catch (error) {
    return wrongShape(`reading it threw (${error instanceof Error ? error.name : typeof error})`);
  }
}

function check(value: unknown, bounds: StoredStateBounds): Result<CheckedOlmState, AccountFailure> {
  const account = field(value, "account");
  const pickle = field(account, "pickle");
  if (!isPickle(pickle, MAX_ACCOUNT_PICKLE_BYTES)) {
    return wrongShape(
      `account.pickle is not a string of at most ${MAX_ACCOUNT_PICKLE_BYTES} bytes`,
    );
  }
  const sessions = field(value, "sessions");
  if (!Array.isArray(sessions)) return wrongShape("sessions is not an array");
  if (sessions.length > bounds.maxPeers) {
    return wrongShape(`it has sessions with more than maxPeers (${bounds.maxPeers}) peers`);
  }
  const peers: CheckedPeer[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < sessions.length; i++) {
    const entry: unknown = sessions[i];
    const peer = parseCurve25519PublicKey(field(entry, "peer"));
    if (!peer.ok) return wrongShape(`sessions[${i}].peer is not a curve25519 key`);
    if (seen.has(peer.value)) return wrongShape(`sessions[${i}].peer is listed twice`);
    seen.add(peer.value);
    const pickles = field(entry, "pickles");
    if (!Array.isArray(pickles)) return wrongShape(`sessions[${i}].pickles is not an array`);
    const kept = pickles.slice(0, bounds.maxPerPeer);
    for (const [j, session] of kept.entries()) {
      if (!isPickle(session, MAX_SESSION_PICKLE_BYTES)) {
        return wrongShape(
          `sessions[${i}].pickles[${j}] is not a string of at most ${MAX_SESSION_PICKLE_BYTES} bytes`,
        );
      }
    }
    if (kept.length > 0) {
      peers.push({ peer: peer.value, pickles: kept, trimmed: pickles.length > kept.length });
    }
  }
  return ok({ account: pickle, peers });
}

/** An own data property of an object, else undefined (an accessor is never called). */
function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return Reflect.getOwnPropertyDescriptor(value, key)?.value;
}

function isPickle(value: unknown, limit: number): value is string {
  return typeof value === "string" && value.length > 0 && olmByteLength(value, limit) <= limit;
}

function wrongShape(detail: string): { readonly ok: false } & AccountFailure {
  return accountFailure("badPickle", `The stored Olm state is not usable: ${detail}.`);
}
