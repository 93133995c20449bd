/** What the store needs of a session: libolm objects live in the wasm heap until freed. */
export interface Freeable {
  free(): void;
}

interface Ranked<S> {
  readonly session: S;
  /** Tick of the last successful decrypt, or of creation if none yet. */
  rank: number;
}

export interface SessionStoreOptions {
  readonly maxPerPeer: number;
  /** Peers kept at most; beyond it the least recently active peer's sessions are freed. */
  readonly maxPeers?: number;
  /** Whether to remember which peers changed, for `takeChanged` (persistence only). */
  readonly trackChanges?: boolean;
}

/**
 * The Olm sessions with each peer identity key, ranked as the spec asks senders to choose:
 * "the session from which it last received and successfully decrypted a message; a session that
 * has not received any messages uses its creation time". A counter, not a clock, orders events,
 * so equal timestamps cannot tie. Beyond `maxPerPeer` the lowest-ranked session (the one least
 * recently used by that rule) is dropped and freed; beyond `maxPeers` the peer whose sessions
 * were least recently created or received on is dropped whole.
 *
 * With `trackChanges`, every peer whose list changed (a session added, re-ranked, evicted or
 * forgotten, or marked by `markChanged` because its ratchet moved) is remembered until
 * `takeChanged`, so a persisting owner saves exactly those.
 */
export class SessionStore<S extends Freeable> {
  /** Insertion order is activity order: a peer is moved to the end whenever it is active. */
  private readonly byPeer = new Map<string, Ranked<S>[]>();
  private readonly changed: Set<string> | undefined;
  private readonly maxPerPeer: number;
  private readonly maxPeers: number;
  private tick = 0;

  constructor(options: number | SessionStoreOptions) {
    const { maxPerPeer, maxPeers, trackChanges } =
      typeof options === "number" ? { maxPerPeer: options } : options;
    this.maxPerPeer = maxPerPeer;
    this.maxPeers = maxPeers ?? Number.POSITIVE_INFINITY;
    this.changed = trackChanges === true ? new Set() : undefined;
  }

  has(peer: string): boolean {
    return this.byPeer.has(peer);
  }

  /** How many peers have sessions. */
  get peerCount(): number {
    return this.byPeer.size;
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
    const entries = this.active(peer) ?? [];
    entries.push({ session, rank: this.nextTick() });
    this.byPeer.set(peer, entries);
    this.changed?.add(peer);
    entries.sort((a, b) => b.rank - a.rank);
    const evicted = entries.splice(this.maxPerPeer).map((entry) => entry.session);
    for (const old of evicted) old.free();
    return [...evicted, ...this.evictIdlePeers()];
  }

  /** Records that `session` just decrypted a message from `peer`. */
  markReceived(peer: string, session: S): void {
    const entry = this.active(peer)?.find((candidate) => candidate.session === session);
    if (entry === undefined) return;
    entry.rank = this.nextTick();
    this.changed?.add(peer);
  }

  /** Records that a session with `peer` changed inside (its ratchet moved), rank unchanged. */
  markChanged(peer: string): void {
    if (this.byPeer.has(peer)) this.changed?.add(peer);
  }

  /** Frees every session with `peer`; returns how many there were. */
  forget(peer: string): number {
    const entries = this.byPeer.get(peer) ?? [];
    for (const entry of entries) entry.session.free();
    if (this.byPeer.delete(peer)) this.changed?.add(peer);
    return entries.length;
  }

  /** The peers changed since the last call (each once), and forgets them. */
  takeChanged(): readonly string[] {
    if (this.changed === undefined || this.changed.size === 0) return [];
    const peers = [...this.changed];
    this.changed.clear();
    return peers;
  }

  /** Frees every session; the store is empty afterwards. */
  freeAll(): void {
    for (const entries of this.byPeer.values()) {
      for (const entry of entries) entry.session.free();
    }
    this.byPeer.clear();
    this.changed?.clear();
  }

  /** The peer's entries, moved to the most recently active end of the map. */
  private active(peer: string): Ranked<S>[] | undefined {
    const entries = this.byPeer.get(peer);
    if (entries !== undefined) {
      this.byPeer.delete(peer);
      this.byPeer.set(peer, entries);
    }
    return entries;
  }

  private evictIdlePeers(): S[] {
    const evicted: S[] = [];
    for (const [peer, entries] of this.byPeer) {
      if (this.byPeer.size <= this.maxPeers) break;
      this.byPeer.delete(peer);
      this.changed?.add(peer);
      for (const entry of entries) {
        entry.session.free();
        evicted.push(entry.session);
      }
    }
    return evicted;
  }

  private nextTick(): number {
    this.tick += 1;
    return this.tick;
  }
}
