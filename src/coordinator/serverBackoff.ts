import { claimBackoffMs, hasWaited, MAX_COUNTED_CLAIM_FAILURES } from "../machine/timing.js";

/** Whether a homeserver's devices may be claimed for now. */
export type ServerClaim =
  | { readonly kind: "due" }
  | { readonly kind: "backingOff"; readonly until: number };

/** Servers tracked at once; beyond this the oldest entry is forgotten (a probe claim, no harm). */
const MAX_SERVERS = 10_000;

/**
 * R5 per homeserver: a server the claim response lists under `failures` (our homeserver could not
 * reach it) is not asked for again until its backoff ends, the same 15 s × 2ⁿ (capped at 15 min)
 * as a device's. So a dead server with 5,000 devices costs one skipped entry per share, not 5,000
 * claims. Any answer from the server clears it. Time is data (protocol time); memory only: after
 * a restart the first share probes the server once.
 */
export class ServerBackoff {
  readonly #servers = new Map<string, { failures: number; failedAt: number }>();

  check(server: string, at: number): ServerClaim {
    const entry = this.#servers.get(server);
    if (entry === undefined) return { kind: "due" };
    const wait = claimBackoffMs(entry.failures);
    if (hasWaited(entry.failedAt, at, wait)) return { kind: "due" };
    // A reading before the anchor: the clock went back; wait from this reading instead.
    if (at < entry.failedAt) entry.failedAt = at;
    return { kind: "backingOff", until: entry.failedAt + wait };
  }

  failed(server: string, at: number): void {
    const entry = this.#servers.get(server);
    const failures = Math.min((entry?.failures ?? 0) + 1, MAX_COUNTED_CLAIM_FAILURES);
    this.#servers.delete(server);
    this.#servers.set(server, { failures, failedAt: at });
    if (this.#servers.size > MAX_SERVERS) {
      const oldest = this.#servers.keys().next();
      if (oldest.done !== true) this.#servers.delete(oldest.value);
    }
  }

  answered(server: string): void {
    this.#servers.delete(server);
  }

  get size(): number {
    return this.#servers.size;
  }
}
