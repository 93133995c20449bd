import {
  type KeyWithholdingStore,
  type StoreChanges,
  type StoredOlmAccount,
  type StoredOlmState,
  type StoredReceivedWithheld,
  type StoredRequest,
  type StoredState,
  StoreFailure,
} from "./keyWithholdingStore.js";

/**
 * A store in memory, gone with the process: for tests, simulations and restarts within one
 * process (a coordinator opened again over the same object sees everything committed). Values
 * are copied through JSON on the way in, so nothing the library holds aliases what is stored.
 */
export class InMemoryStore implements KeyWithholdingStore {
  readonly #peers = new Map<string, string>();
  readonly #requests = new Map<string, string>();
  readonly #sessionNotices = new Set<string>();
  readonly #received = new Map<string, string>();
  readonly #olmSessions = new Map<string, string>();
  #olmAccount: string | undefined;
  #protocolTime: number | undefined;
  #commits = 0;

  async loadOlm(): Promise<StoredOlmState | undefined> {
    if (this.#olmAccount === undefined) return undefined;
    return {
      account: JSON.parse(this.#olmAccount) as StoredOlmAccount,
      sessions: [...this.#olmSessions.entries()].map(([peer, pickles]) => ({
        peer,
        pickles: JSON.parse(pickles) as string[],
      })),
    };
  }

  async load(): Promise<StoredState> {
    return {
      peers: [...this.#peers.entries()].map(([key, json]) => [key, JSON.parse(json)] as const),
      requests: [...this.#requests.values()].map((json) => JSON.parse(json) as StoredRequest),
      sessionNotices: [...this.#sessionNotices],
      received: [...this.#received.values()].map(
        (json) => JSON.parse(json) as StoredReceivedWithheld,
      ),
      protocolTime: this.#protocolTime,
    };
  }

  async commit(changes: StoreChanges): Promise<void> {
    // Serialise everything first, so a change that cannot be stored leaves the store untouched.
    let serialised: ReturnType<typeof serialise>;
    try {
      serialised = serialise(changes);
    } catch (thrown) {
      throw new StoreFailure("invalidArgument", `a change cannot be stored: ${String(thrown)}`);
    }
    const { peers, requests, received, account, sessions } = serialised;
    for (const [key, json] of peers) this.#peers.set(key, json);
    for (const txnId of changes.requestsRemoved) this.#requests.delete(txnId);
    for (const [txnId, json] of requests) this.#requests.set(txnId, json);
    for (const key of changes.sessionNoticesAdded) this.#sessionNotices.add(key);
    for (const id of changes.receivedRemoved) this.#received.delete(id);
    for (const [id, json] of received) this.#received.set(id, json);
    if (account !== undefined) this.#olmAccount = account;
    for (const [peer, json] of sessions) {
      if (json === "[]") this.#olmSessions.delete(peer);
      else this.#olmSessions.set(peer, json);
    }
    if (changes.protocolTime !== undefined) this.#protocolTime = changes.protocolTime;
    this.#commits += 1;
  }

  /** Commits applied so far (tests count transactions with it). */
  get commits(): number {
    return this.#commits;
  }

  /** Requests stored and not yet acknowledged. */
  get storedRequests(): number {
    return this.#requests.size;
  }

  /** Peer states stored (tests check what a restart would find). */
  get storedPeers(): number {
    return this.#peers.size;
  }
}

function serialise(changes: StoreChanges) {
  return {
    peers: changes.peers.map(([key, snapshot]) => [key, JSON.stringify(snapshot)] as const),
    requests: changes.requestsAdded.map((r) => [r.txnId, JSON.stringify(r)] as const),
    received: changes.receivedPut.map((r) => [r.id, JSON.stringify(r)] as const),
    account: changes.olmAccount === undefined ? undefined : JSON.stringify(changes.olmAccount),
    sessions: changes.olmSessions.map((s) => [s.peer, JSON.stringify(s.pickles)] as const),
  };
}
