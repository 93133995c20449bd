import type {
  KeyWithholdingStore,
  StoreChanges,
  StoredOlmState,
  StoredState,
} from "../../src/index.js";
import { nowNs } from "../median.js";

/** A store wrapper that times each `commit` of the store under it (figure g). */
export class TimedStore implements KeyWithholdingStore {
  readonly commitsMs: number[] = [];
  readonly peersPerCommit: number[] = [];

  constructor(private readonly inner: KeyWithholdingStore) {}

  loadOlm(): Promise<StoredOlmState | undefined> {
    return this.inner.loadOlm();
  }

  load(): Promise<StoredState> {
    return this.inner.load();
  }

  async commit(changes: StoreChanges): Promise<void> {
    const started = nowNs();
    try {
      await this.inner.commit(changes);
    } finally {
      this.commitsMs.push((nowNs() - started) / 1e6);
      this.peersPerCommit.push(changes.peers.length);
    }
  }
}
