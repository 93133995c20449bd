/**
 * Candidate snapshots for the reachability properties, as persisted JSON values: either any
 * leaves, ids and times (biased to the values where relations show: 0, 1, MAX_PEER_ID, ties,
 * the ends of the double range), or a concrete snapshot of a reachable shape with random values
 * in the order the shape gives.
 */
import fc from "fast-check";
import type { PeerContext } from "../../machine/peerContext.js";
import {
  OLM_LEAVES,
  type OlmLeaf,
  peerStateValue,
  REPLY_LEAVES,
  type ReplyLeaf,
  TIME_FIELDS,
} from "../../machine/peerShape.js";
import { REACHABLE_SHAPES } from "../../machine/reachableShapeKeys.js";
import { MAX_PEER_ID } from "../../machine/timing.js";
import { ONE_HOUR_MS } from "../model/referenceModel.js";

const H = ONE_HOUR_MS;

/**
 * Notice and reply ids as a snapshot's context holds them: integers 1…`MAX_PEER_ID`
 * (2³²−1), biased to 1, 2, small values and the wrap-around end.
 */
export const nonZeroIdArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1, 2, MAX_PEER_ID - 1, MAX_PEER_ID),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: MAX_PEER_ID }),
);

/** Like {@link nonZeroIdArb}, or 0 (no id yet). */
export const idArb: fc.Arbitrary<number> = fc.oneof(fc.constant(0), nonZeroIdArb);

/** Finite readings below Number.MAX_VALUE, often small, sometimes extreme. */
export const finiteTimeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -3 * H, max: 3 * H }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -0, 1, H - 1, H, 15_000, -Number.MAX_VALUE, Number.MIN_VALUE),
  },
  {
    weight: 2,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, max: 1.7e308 }),
  },
);

/** A time field's value with ties likely: from a small pool, or null. */
const poolTimeArb: fc.Arbitrary<number | null> = fc.oneof(
  fc.constant(null),
  fc.constantFrom(0, 1, 2, H, 2 * H, Number.MAX_VALUE, -Number.MAX_VALUE),
  finiteTimeArb,
);

const stateValueArb = fc
  .record({ olm: fc.constantFrom(...OLM_LEAVES), reply: fc.constantFrom(...REPLY_LEAVES) })
  .map(({ olm, reply }) => peerStateValue(olm, reply));

/** Any leaves and well-typed context numbers: mostly states the machine never reaches. */
export const anyCandidateArb: fc.Arbitrary<unknown> = fc.record({
  v: fc.constant(1),
  value: stateValueArb,
  context: fc.record({
    noticeId: idArb,
    unreachableSince: poolTimeArb,
    lastNoticeReceivedAt: poolTimeArb,
    replyId: idArb,
    lastReplyAt: poolTimeArb,
    claimFailures: fc.integer({ min: 0, max: 8 }),
    claimFailedAt: poolTimeArb,
  }),
});

interface ParsedShape {
  readonly olm: OlmLeaf;
  readonly reply: ReplyLeaf;
  readonly noticeIdSet: boolean;
  readonly replyIdSet: boolean;
  readonly claimFailures: number;
  /** Per TIME_FIELDS: rank or null. */
  readonly ranks: readonly (number | null)[];
  readonly top: boolean;
}

export function parseShape(key: string): ParsedShape {
  const [olm, reply, n, r, f, u, l, p, c, t] = key.split(" ");
  const rankOf = (token: string | undefined): number | null =>
    token === undefined || token.slice(1) === "-" ? null : Number(token.slice(1));
  return {
    olm: olm as OlmLeaf,
    reply: reply as ReplyLeaf,
    noticeIdSet: n === "n1",
    replyIdSet: r === "r1",
    claimFailures: Number(f?.slice(1)),
    ranks: [u, l, p, c].map(rankOf),
    top: t === "T1",
  };
}

/** Concrete snapshots (persisted JSON values) of one shape, with random ids and times. */
export function snapshotOfShapeArb(key: string): fc.Arbitrary<unknown> {
  const shape = parseShape(key);
  return fc
    .record({
      noticeId: shape.noticeIdSet ? nonZeroIdArb : fc.constant(0),
      replyId: shape.replyIdSet ? nonZeroIdArb : fc.constant(0),
      values: fc.uniqueArray(finiteTimeArb, {
        minLength: 4,
        maxLength: 4,
        comparator: "SameValueZero",
      }),
    })
    .map(({ noticeId, replyId, values }) => {
      const sorted = [...values].sort((a, b) => a - b);
      const highest = Math.max(-1, ...shape.ranks.map((x) => x ?? -1));
      const time = (rank: number | null | undefined): number | null => {
        if (rank === null || rank === undefined) return null;
        return shape.top && rank === highest ? Number.MAX_VALUE : (sorted[rank] ?? 0);
      };
      const times = Object.fromEntries(
        TIME_FIELDS.map((field, i) => [field, time(shape.ranks[i])]),
      ) as Pick<PeerContext, (typeof TIME_FIELDS)[number]>;
      const context: PeerContext = {
        noticeId,
        replyId,
        claimFailures: shape.claimFailures,
        ...times,
      };
      return { v: 1, value: peerStateValue(shape.olm, shape.reply), context };
    });
}

/** A concrete snapshot of a reachable shape (every shape equally likely). */
export const reachableCandidateArb: fc.Arbitrary<unknown> = fc
  .constantFrom(...REACHABLE_SHAPES)
  .chain(snapshotOfShapeArb);

/** Candidates for "accepted ⇒ reachable": mostly of reachable shapes, some of any shape. */
export const candidateArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: reachableCandidateArb },
  { weight: 1, arbitrary: anyCandidateArb },
);
