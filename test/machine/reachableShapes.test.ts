// The reachable shapes are derived from the machine: the committed reachableShapes.generated.ts
// must be exactly what exploring the machine gives now, and restore must accept a snapshot
// exactly when its shape is one of them, over the whole (finite) space of shapes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  codeOfShapeKey,
  exploreReachableShapes,
  renderReachableShapesModule,
  shapeRepresentative,
} from "../../src/machine/exploreShapes.js";
import type { PeerContext } from "../../src/machine/peerContext.js";
import {
  OLM_LEAVES,
  peerShapeCode,
  peerShapeKey,
  peerStateValue,
  REPLY_LEAVES,
  SHAPE_CODE_COUNT,
  shapeKeyOfCode,
  TIME_FIELDS,
} from "../../src/machine/peerShape.js";
import {
  type PeerSnapshot,
  peerLeaves,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { REACHABLE_SHAPES } from "../../src/machine/reachableShapeKeys.js";
import { MAX_COUNTED_CLAIM_FAILURES, MAX_PEER_ID } from "../../src/machine/timing.js";
import { memoizedStepper, runWitness, witnessFor } from "./witness.js";

const explored = exploreReachableShapes();

describe("reachableShapes.generated.ts is derived from the machine", () => {
  it("equals a fresh exploration of the machine (regenerate: npx tsx scripts/generate-reachable-shapes.ts)", () => {
    expect([...REACHABLE_SHAPES]).toEqual(explored.shapes);
    const committed = readFileSync(
      new URL("../../src/machine/reachableShapes.generated.ts", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(renderReachableShapesModule(explored.shapes));
  });

  it("each shape's representative has that shape", () => {
    for (const key of explored.shapes) {
      const rep = shapeRepresentative(key);
      expect(peerShapeKey(rep.olm, rep.reply, rep.context)).toBe(key);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Every shape there is: accepted exactly when reached.

/** Every assignment of ranks to the four times (null, or a rank; the ranks used are 0..m-1). */
function rankPatterns(): (number | null)[][] {
  const patterns: (number | null)[][] = [];
  const choices = [null, 0, 1, 2, 3];
  for (const a of choices)
    for (const b of choices)
      for (const c of choices)
        for (const d of choices) {
          const ranks = [a, b, c, d];
          const used = new Set(ranks.filter((r): r is number => r !== null));
          if ([...used].every((r) => r < used.size)) patterns.push(ranks);
        }
  return patterns;
}

/** Two different realisations of each rank: plain, and spread over the doubles. */
const PLAIN = [0, 1, 2, 3];
const SPREAD = [-Number.MAX_VALUE, -0.5, 3.25e-300, 1e300];

interface AbstractShape {
  readonly olm: (typeof OLM_LEAVES)[number];
  readonly reply: (typeof REPLY_LEAVES)[number];
  readonly ids: readonly [boolean, boolean];
  readonly claimFailures: number;
  readonly ranks: readonly (number | null)[];
  readonly top: boolean;
}

function* allShapes(): Generator<AbstractShape> {
  const patterns = rankPatterns();
  for (const olm of OLM_LEAVES)
    for (const reply of REPLY_LEAVES)
      for (const n of [false, true])
        for (const r of [false, true])
          for (let claimFailures = 0; claimFailures <= MAX_COUNTED_CLAIM_FAILURES; claimFailures++)
            for (const ranks of patterns)
              for (const top of ranks.some((x) => x !== null) ? [false, true] : [false]) {
                yield { olm, reply, ids: [n, r], claimFailures, ranks, top };
              }
}

function realise(shape: AbstractShape, values: readonly number[], id: number): PeerSnapshot {
  const highest = Math.max(-1, ...shape.ranks.map((x) => x ?? -1));
  const time = (rank: number | null | undefined): number | null => {
    if (rank === null || rank === undefined) return null;
    return shape.top && rank === highest ? Number.MAX_VALUE : (values[rank] ?? 0);
  };
  const times = Object.fromEntries(
    TIME_FIELDS.map((field, i) => [field, time(shape.ranks[i])]),
  ) as Pick<PeerContext, (typeof TIME_FIELDS)[number]>;
  return {
    value: peerStateValue(shape.olm, shape.reply),
    context: {
      noticeId: shape.ids[0] ? id : 0,
      replyId: shape.ids[1] ? id : 0,
      claimFailures: shape.claimFailures,
      ...times,
    },
  };
}

const keyOf = (s: PeerSnapshot): string => {
  const { olm, reply } = peerLeaves(s.value);
  return peerShapeKey(olm, reply, s.context);
};

describe("(c) over every shape: restore accepts exactly the reached ones", () => {
  it("accepted shapes = reached shapes, for two realisations of each", () => {
    const keys = new Set<string>();
    const acceptedKeys = new Set<string>();
    const disagreements: string[] = [];
    for (const shape of allShapes()) {
      const plain = realise(shape, PLAIN, 1);
      const spread = realise(shape, SPREAD, MAX_PEER_ID);
      const key = keyOf(plain);
      keys.add(key);
      const ok = restorePeerSnapshot({ v: 1, ...plain }).ok;
      if (keyOf(spread) !== key || restorePeerSnapshot({ v: 1, ...spread }).ok !== ok) {
        disagreements.push(key);
      }
      if (ok) acceptedKeys.add(key);
    }
    expect(disagreements).toEqual([]);
    // The key tells shapes apart, and every reached shape is among them.
    const leafPairs = OLM_LEAVES.length * REPLY_LEAVES.length;
    expect(leafPairs).toBe(4 * 6);
    expect(keys.size).toBe(leafPairs * 2 * 2 * (MAX_COUNTED_CLAIM_FAILURES + 1) * (1 + 149 * 2));
    expect([...acceptedKeys].sort()).toEqual(explored.shapes);
  });

  it("every reached shape is reached by a witness run, also with ids at MAX_PEER_ID", () => {
    // The witnesses share most of their steps; each distinct step is taken once.
    const step = memoizedStepper();
    for (const key of explored.shapes) {
      const rep = shapeRepresentative(key);
      const shape: AbstractShape = {
        olm: rep.olm,
        reply: rep.reply,
        ids: [rep.context.noticeId !== 0, rep.context.replyId !== 0],
        claimFailures: rep.context.claimFailures,
        ranks: key
          .split(" ")
          .slice(5, 9)
          .map((t) => (t.slice(1) === "-" ? null : Number(t.slice(1)))),
        top: key.endsWith("T1"),
      };
      const target = realise(shape, SPREAD, MAX_PEER_ID);
      expect(keyOf(target)).toBe(key);
      expect(runWitness(witnessFor(target), step), key).toStrictEqual(target);
    }
  });
});

describe("shape codes (what a restore checks) stand for exactly the shape keys", () => {
  it("every reachable key round-trips through its code, and every code is in range", () => {
    for (const key of REACHABLE_SHAPES) {
      const code = codeOfShapeKey(key);
      expect(code).toBeGreaterThanOrEqual(0);
      expect(code).toBeLessThan(SHAPE_CODE_COUNT);
      expect(shapeKeyOfCode(code)).toBe(key);
    }
  });

  it("for every leaf pair and many contexts, code and key agree", () => {
    const times = [null, 0, 5, Number.MAX_VALUE] as const;
    let checked = 0;
    for (const [o, olm] of OLM_LEAVES.entries()) {
      for (const [r, reply] of REPLY_LEAVES.entries()) {
        for (const u of times)
          for (const l of times)
            for (const p of times)
              for (const c of [null, 5, 9]) {
                const context: PeerContext = {
                  noticeId: checked % 2,
                  unreachableSince: u,
                  lastNoticeReceivedAt: l,
                  replyId: checked % 3 === 0 ? 0 : 7,
                  lastReplyAt: p,
                  claimFailures: checked % (MAX_COUNTED_CLAIM_FAILURES + 1),
                  claimFailedAt: c,
                };
                expect(shapeKeyOfCode(peerShapeCode(o, r, context))).toBe(
                  peerShapeKey(olm, reply, context),
                );
                checked += 1;
              }
      }
    }
    expect(checked).toBe(24 * 4 * 4 * 4 * 3);
  });
});
