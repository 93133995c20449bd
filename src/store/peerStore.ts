import type { PeerKey } from "../devices/peerDevice.js";
import type { PeerSnapshot } from "../machine/peerSnapshot.js";

/**
 * Where peer machines' snapshots live between events. Synchronous on purpose: a step and its
 * save happen without an await in between, so no other event can see a half-applied step.
 */
export interface PeerStore {
  get(key: PeerKey): PeerSnapshot | undefined;
  set(key: PeerKey, snapshot: PeerSnapshot): void;
}

/** The default store: a Map, gone with the process. */
export class InMemoryPeerStore implements PeerStore {
  readonly #snapshots = new Map<PeerKey, PeerSnapshot>();

  get(key: PeerKey): PeerSnapshot | undefined {
    return this.#snapshots.get(key);
  }

  set(key: PeerKey, snapshot: PeerSnapshot): void {
    this.#snapshots.set(key, snapshot);
  }

  get size(): number {
    return this.#snapshots.size;
  }
}
