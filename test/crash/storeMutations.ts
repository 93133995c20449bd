import type { KeyWithholdingStore, StoreChanges } from "../../src/store/keyWithholdingStore.js";

/*
 * Deliberately broken stores, to show the checks catch what they claim to: each drops one kind of
 * change from every commit (so it never survives a kill). Used by `crash-test --mutation <name>`,
 * which must fail; never by the real test.
 */

export const MUTATIONS = {
  /** The outbox is not durable: a request formed before a kill is never sent. */
  dropRequests: (c: StoreChanges): StoreChanges => ({ ...c, requestsAdded: [] }),
  /** Peer machines are not durable: episodes and replies are forgotten at each restart. */
  dropPeers: (c: StoreChanges): StoreChanges => ({ ...c, peers: [] }),
  /** Per-session notices already sent are forgotten, so asking again sends them again. */
  dropSessionNotices: (c: StoreChanges): StoreChanges => ({ ...c, sessionNoticesAdded: [] }),
  /** Olm sessions are not durable. */
  dropOlmSessions: (c: StoreChanges): StoreChanges => ({ ...c, olmSessions: [] }),
  /** Not a store mutation: the child acknowledges /sync before handling the events. */
  ackBeforeHandling: (c: StoreChanges): StoreChanges => c,
} as const;

export type MutationName = keyof typeof MUTATIONS;

export const isMutationName = (name: string): name is MutationName =>
  Object.hasOwn(MUTATIONS, name);

export function mutateStore(store: KeyWithholdingStore, name: MutationName): KeyWithholdingStore {
  const mutate = MUTATIONS[name];
  return {
    loadOlm: () => store.loadOlm(),
    load: () => store.load(),
    commit: (changes) => store.commit(mutate(changes)),
  };
}
