/** What the store needs of a session: libolm objects live in the wasm heap until freed. */
export interface Freeable {
  free(): void;
}

interface Ranked<S> {
  readonly session: S;
  /** Tick of the last successful decrypt, or of creation if none yet. */
  rank: number;
}

/**
 * The Olm sessions with each peer identity key, ranked as the spec asks senders to choose:
 * "the session from which it last received and successfully decrypted a message; a session that
 * has not received any messages uses its creation time". A counter, not a clock, orders events,
 * so equal timestamps cannot tie. Beyond `maxPerPeer` the lowest-ranked session (the one least
 * recently used by that rule) is dropped and freed.
 */
export class SessionStore<S extends Freeable> {
  private readonly byPeer = new Map<string, Ranked<S>[]>();
  private tick = 0;

  constructor(private readonly maxPerPeer: number) {}

  has(peer: string): boolean {
    return this.byPeer.has(peer);
  }

  /** The peer's sessions, best first. */
  ranked(peer: string): readonly S[] {
    const entries = this.byPeer.get(peer) ?? [];
    return [...entries].sort((a, b) => b.rank - a.rank).map((entry) => entry.session);
  }

  best(peer: string): S | undefined {
    return this.ranked(peer)[0];
  }

  /** Keeps a new session, ranked as of now; returns the sessions evicted (already freed). */
  add(peer: string, session: S): readonly S[] {
    const entries = this.byPeer.get(peer) ?? [];
    entries.push({ session, rank: this.nextTick() });
    this.byPeer.set(peer, entries);
    entries.sort((a, b) => b.rank - a.rank);
    const evicted = entries.splice(this.maxPerPeer).map((entry) => entry.session);
    for (const old of evicted) old.free();
    return evicted;
  }

  /** Records that `session` just decrypted a message from `peer`. */
  markReceived(peer: string, session: S): void {
    const entry = this.byPeer.get(peer)?.find((candidate) => candidate.session === session);
    if (entry !== undefined) entry.rank = this.nextTick();
  }

  /** Frees every session with `peer`; returns how many there were. */
  forget(peer: string): number {
    const entries = this.byPeer.get(peer) ?? [];
    for (const entry of entries) entry.session.free();
    this.byPeer.delete(peer);
    return entries.length;
  }

  /** Frees every session; the store is empty afterwards. */
  freeAll(): void {
    for (const entries of this.byPeer.values()) {
      for (const entry of entries) entry.session.free();
    }
    this.byPeer.clear();
  }

  private nextTick(): number {
    this.tick += 1;
    return this.tick;
  }
}
