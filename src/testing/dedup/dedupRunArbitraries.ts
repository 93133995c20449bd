import fc from "fast-check";
import { ONE_HOUR_MS } from "../model/referenceModel.js";

/** One thing that happens to our device, its peers or the network. Peers are indices. */
export type DedupStep =
  /** The client shares a room key with these peers. */
  | { readonly k: "share"; readonly peers: readonly number[] }
  /** A peer publishes one-time keys: the next claim for it can succeed. */
  | { readonly k: "publishKeys"; readonly peer: number; readonly count: number }
  /** A peer tells us it could not reach us (an m.no_olm to our device). */
  | { readonly k: "peerNotice"; readonly peer: number }
  /** The client processes its /sync. */
  | { readonly k: "sync" }
  /** The kit's clock moves forward by `ms` (1 ms to a minute, or about an hour). */
  | { readonly k: "advance"; readonly ms: number }
  /** Our next `count` sends fail (the homeserver never acts on them). */
  | { readonly k: "sendFails"; readonly count: number }
  /** The connection is back: the client retries. */
  | { readonly k: "retry" }
  /** Our session with a peer is gone (corrupted): the next share must make a new one. */
  | { readonly k: "loseSession"; readonly peer: number };

/** A run for {@link runDedupScenario}, made by {@link dedupRunArb}. */
export interface DedupRun {
  /** How many peer devices (each of its own user). */
  readonly peers: number;
  /** What happens, in order; peer indices are 0 to `peers − 1`. */
  readonly steps: readonly DedupStep[];
}

const stepArb = (peers: number): fc.Arbitrary<DedupStep> => {
  const peer = fc.nat(peers - 1);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .uniqueArray(peer, { minLength: 1, maxLength: peers })
        .map((p) => ({ k: "share", peers: p }) as const),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ peer, count: fc.integer({ min: 1, max: 2 }) })
        .map((r) => ({ k: "publishKeys", ...r }) as const),
    },
    { weight: 3, arbitrary: peer.map((p) => ({ k: "peerNotice", peer: p }) as const) },
    { weight: 4, arbitrary: fc.constant({ k: "sync" } as const) },
    {
      weight: 4,
      arbitrary: fc
        .oneof(
          fc.integer({ min: 1, max: 60_000 }),
          fc.integer({ min: ONE_HOUR_MS - 60_000, max: ONE_HOUR_MS + 60_000 }),
        )
        .map((ms) => ({ k: "advance", ms }) as const),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 3 })
        .map((count) => ({ k: "sendFails", count }) as const),
    },
    { weight: 2, arbitrary: fc.constant({ k: "retry" } as const) },
    { weight: 1, arbitrary: peer.map((p) => ({ k: "loseSession", peer: p }) as const) },
  );
};

/**
 * Sequences that reach the rare corners often enough: a session and a second episode, and a
 * peer's notices answered within and after the hour.
 */
const comboArb = (peers: number): fc.Arbitrary<DedupStep[]> => {
  const peer = fc.nat(peers - 1);
  return fc.oneof(
    peer.map((p): DedupStep[] => [
      { k: "share", peers: [p] },
      { k: "publishKeys", peer: p, count: 1 },
      // past the claim backoff the first failure started
      { k: "advance", ms: 60_000 },
      { k: "share", peers: [p] },
      { k: "loseSession", peer: p },
      { k: "share", peers: [p] },
    ]),
    fc
      .record({ p: peer, gap: fc.constantFrom(60_000, ONE_HOUR_MS - 1, ONE_HOUR_MS + 60_000) })
      .map(({ p, gap }): DedupStep[] => [
        { k: "publishKeys", peer: p, count: 2 },
        { k: "peerNotice", peer: p },
        { k: "sync" },
        { k: "advance", ms: gap },
        { k: "loseSession", peer: p },
        { k: "peerNotice", peer: p },
        { k: "sync" },
      ]),
  );
};

/** Runs over 1–3 peers, up to `maxSteps` steps (default 30). */
export const dedupRunArb = (maxSteps = 30): fc.Arbitrary<DedupRun> =>
  fc.integer({ min: 1, max: 3 }).chain((peers) =>
    fc.record({
      peers: fc.constant(peers),
      steps: fc
        .array(
          fc.oneof(
            { weight: 8, arbitrary: stepArb(peers).map((step) => [step]) },
            { weight: 1, arbitrary: comboArb(peers) },
          ),
          { maxLength: maxSteps },
        )
        .map((chunks) => chunks.flat().slice(0, maxSteps)),
    }),
  );
