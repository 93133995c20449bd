// restorePeerSnapshot accepts exactly the snapshots the machine can reach:
//  (a) every snapshot a run reaches is accepted (after persist → JSON → parse), also from any
//      accepted snapshot, so with ids near MAX_PEER_ID and times at the ends of the doubles;
//  (b) every accepted snapshot is reached: a witness run (witness.ts) built from the snapshot
//      alone ends exactly there. Ids too large to count up to are covered by the pump lemma,
//      checked here on arbitrary accepted snapshots (see witness.ts for the argument).
// The exhaustive check over all shapes is in reachableShapes.test.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { PeerContext } from "../../src/machine/peerContext.js";
import type { PeerEvent, PeerEventType } from "../../src/machine/peerEvents.js";
import { TIME_FIELDS } from "../../src/machine/peerShape.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  peerLeaves,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { MAX_PEER_ID } from "../../src/machine/timing.js";
import {
  candidateArb,
  finiteTimeArb,
  reachableCandidateArb,
} from "../../src/testing/arbitraries/snapshotArbitraries.js";
import { modelBackoffMs, ONE_HOUR_MS } from "../../src/testing/model/referenceModel.js";
import {
  type IdField,
  idDistance,
  mustStep,
  nextId,
  pumpEvents,
  runWitness,
  withId,
  witnessFor,
} from "./witness.js";

const H = ONE_HOUR_MS;

const toJson = (snapshot: PeerSnapshot): unknown =>
  JSON.parse(JSON.stringify(persistPeerSnapshot(snapshot)));

/** Restores a JSON value, failing the test if restore refuses it. */
function mustRestore(json: unknown): PeerSnapshot {
  const restored = restorePeerSnapshot(json);
  if (!restored.ok) {
    throw new Error(
      `restore refused ${JSON.stringify(json)}: ${restored.reason}: ${restored.detail}`,
    );
  }
  return restored.value;
}

// ---------------------------------------------------------------------------------------------
// Random events, resolved against the current context: readings at and around each time field
// (the waits' edges), far away, or at the ends of the doubles; current, stale, 0 and MAX ids.

const EVENT_TYPES: readonly PeerEventType[] = [
  "ESTABLISH_FAILED",
  "CLAIM_REQUESTED",
  "CLAIM_FAILED",
  "DEVICE_CHANGED",
  "SESSION_ESTABLISHED",
  "SESSION_LOST",
  "NOTICE_SENT",
  "NOTICE_SEND_FAILED",
  "NOTICE_RECEIVED",
  "DUMMY_QUEUED",
  "REPLY_SUCCEEDED",
  "REPLY_FAILED",
  "RESUMED",
];

type AtPick =
  | { readonly k: "abs"; readonly at: number }
  | { readonly k: "field"; readonly field: (typeof TIME_FIELDS)[number]; readonly off: number }
  | { readonly k: "backoffEdge"; readonly off: number };

const atPickArb: fc.Arbitrary<AtPick> = fc.oneof(
  fc.record({
    k: fc.constant("abs" as const),
    at: fc.oneof(finiteTimeArb, fc.constant(Number.MAX_VALUE)),
  }),
  fc.record({
    k: fc.constant("field" as const),
    field: fc.constantFrom(...TIME_FIELDS),
    off: fc.constantFrom(-H, -1, 0, 1, H - 1, H, 2 * H),
  }),
  fc.record({ k: fc.constant("backoffEdge" as const), off: fc.constantFrom(-1, 0, 1) }),
);

const eventPickArb = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  at: atPickArb,
  id: fc.constantFrom("current", "next", "previous", "zero", "max"),
});
type EventPick = typeof eventPickArb extends fc.Arbitrary<infer T> ? T : never;

function resolveAt(pick: AtPick, c: PeerContext): number {
  switch (pick.k) {
    case "abs":
      return pick.at;
    case "field":
      return (c[pick.field] ?? 0) + pick.off;
    case "backoffEdge":
      return c.claimFailedAt === null
        ? 0
        : c.claimFailedAt + modelBackoffMs(c.claimFailures) + pick.off;
  }
}

function resolveEvent(pick: EventPick, c: PeerContext): PeerEvent {
  const at = resolveAt(pick.at, c);
  const id = (current: number): number => {
    switch (pick.id) {
      case "current":
        return current;
      case "next":
        return nextId(current);
      case "previous":
        return Math.max(0, current - 1);
      case "zero":
        return 0;
      case "max":
        return MAX_PEER_ID;
    }
  };
  switch (pick.type) {
    case "NOTICE_SENT":
    case "NOTICE_SEND_FAILED":
      return { type: pick.type, at, noticeId: id(c.noticeId) };
    case "DUMMY_QUEUED":
    case "REPLY_SUCCEEDED":
    case "REPLY_FAILED":
      return { type: pick.type, at, replyId: id(c.replyId) };
    case "SESSION_ESTABLISHED":
      return { type: pick.type, at, origin: "inbound" };
    default:
      return { type: pick.type, at } as PeerEvent;
  }
}

const picksArb = fc.array(eventPickArb, { maxLength: 40 });

/** Steps from `from` along the picks; every snapshot on the way must restore, unchanged. */
function checkRunRestores(from: PeerSnapshot, picks: readonly EventPick[]): void {
  let snapshot = from;
  const trace: PeerEvent[] = [];
  for (const pick of picks) {
    const event = resolveEvent(pick, snapshot.context);
    trace.push(event);
    const result = stepPeer(snapshot, event);
    expect(result.kind).not.toBe("rejected");
    snapshot = result.snapshot;
    const json = toJson(snapshot) as PeerSnapshot;
    const restored = restorePeerSnapshot(json);
    expect(restored, `after ${JSON.stringify(trace)}`).toStrictEqual({
      ok: true,
      value: { value: json.value, context: json.context },
    });
  }
}

describe("(a) reachable ⇒ accepted", () => {
  test.prop([picksArb])("every snapshot a run from a fresh peer reaches restores", (picks) => {
    checkRunRestores(initialPeerSnapshot, picks);
  });

  test.prop([reachableCandidateArb, picksArb])(
    "every snapshot a run from an accepted snapshot reaches restores (ids at MAX_PEER_ID, extreme times)",
    (json, picks) => {
      checkRunRestores(mustRestore(json), picks);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// The pump lemma: ids are free.

const pumpCases: readonly IdField[] = ["noticeId", "replyId"];

describe("the pump lemma: from a pumpable snapshot, a pump moves one id by nextPeerId only", () => {
  test.prop([reachableCandidateArb, fc.constantFrom(...pumpCases)])(
    "on accepted snapshots",
    (json, field) => {
      const s = mustRestore(json);
      const events = pumpEvents(field, s);
      fc.pre(events !== undefined);
      let after = s;
      for (const event of events ?? []) after = mustStep(after, event);
      expect(after).toStrictEqual(withId(s, field, nextId(s.context[field])));
    },
  );

  it("across the wrap: MAX_PEER_ID → 1, and 0 → 1", () => {
    const pending = runWitness(witnessFor(mustRestore(toJson(idlePending(1)))));
    for (const [from, to] of [
      [MAX_PEER_ID, 1],
      [MAX_PEER_ID - 1, MAX_PEER_ID],
    ] as const) {
      let s = withId(pending, "noticeId", from);
      for (const event of pumpEvents("noticeId", s) ?? []) s = mustStep(s, event);
      expect(s).toStrictEqual(withId(pending, "noticeId", to));
    }
    const established = mustStep(initialPeerSnapshot, {
      type: "SESSION_ESTABLISHED",
      at: 0,
      origin: "existing",
    });
    let s = established;
    for (const event of pumpEvents("noticeId", s) ?? []) s = mustStep(s, event);
    expect(s).toStrictEqual(withId(established, "noticeId", 1));
  });

  it("ids 1..MAX_PEER_ID form one nextPeerId cycle, and 0 enters it at 1", () => {
    expect(idDistance(0, 1)).toBe(1);
    expect(idDistance(1, MAX_PEER_ID)).toBe(MAX_PEER_ID - 1);
    expect(idDistance(MAX_PEER_ID, 1)).toBe(1);
    expect(idDistance(5, 4)).toBe(MAX_PEER_ID - 1);
    expect(idDistance(3, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

function idlePending(noticeId: number): PeerSnapshot {
  return {
    value: { olm: { unreachable: "noticePending" }, reply: "idle" },
    context: { ...initialPeerSnapshot.context, noticeId, unreachableSince: 7 },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) accepted ⇒ reachable

let accepted = 0;
let candidates = 0;

describe("(b) accepted ⇒ reachable", () => {
  test.prop([candidateArb])(
    "a witness run from a fresh peer ends at every accepted snapshot",
    (json) => {
      candidates += 1;
      const restored = restorePeerSnapshot(json);
      if (!restored.ok) return;
      accepted += 1;
      const target = restored.value;
      const reached = runWitness(witnessFor(target));
      expect(reached, `witness for ${JSON.stringify(json)}`).toStrictEqual(target);
    },
  );

  it("the candidates were mostly accepted (the property is not vacuous)", () => {
    expect(candidates).toBeGreaterThan(0);
    expect(accepted / candidates).toBeGreaterThan(0.5);
  });

  it.each([
    [
      "ids at MAX_PEER_ID in a retried claim",
      {
        value: { olm: { unreachable: "noticeDelivered" }, reply: { replying: "newSession" } },
        context: {
          noticeId: MAX_PEER_ID,
          unreachableSince: -5,
          lastNoticeReceivedAt: 100,
          replyId: MAX_PEER_ID,
          lastReplyAt: 100 - 2 * H,
          claimFailures: 8,
          claimFailedAt: 100,
        },
      },
    ],
    [
      "a reply id wrapped to 1 after an hour-late notice",
      {
        value: { olm: "established", reply: "idle" },
        context: {
          noticeId: 0,
          unreachableSince: null,
          lastNoticeReceivedAt: 10 + H,
          replyId: 1,
          lastReplyAt: 10,
          claimFailures: 0,
          claimFailedAt: null,
        },
      },
    ],
    [
      "a failed claim at the largest finite time",
      {
        value: { olm: "noSession", reply: "backingOff" },
        context: {
          noticeId: 0,
          unreachableSince: null,
          lastNoticeReceivedAt: -Number.MAX_VALUE,
          replyId: 3,
          lastReplyAt: null,
          claimFailures: 2,
          claimFailedAt: Number.MAX_VALUE,
        },
      },
    ],
    [
      "a notice waiting for a share-time backoff that failed again after it, no reply ever",
      {
        value: { olm: { unreachable: "noticeDelivered" }, reply: "backingOff" },
        context: {
          noticeId: MAX_PEER_ID,
          unreachableSince: Number.MAX_VALUE,
          lastNoticeReceivedAt: -1,
          replyId: 0,
          lastReplyAt: null,
          claimFailures: 8,
          claimFailedAt: 5,
        },
      },
    ],
    [
      "share-time failures while an m.dummy over a session is queued, in an episode",
      {
        value: {
          olm: { unreachable: "noticePending" },
          reply: { replying: "existingSessionDummyQueued" },
        },
        context: {
          noticeId: 2,
          unreachableSince: 10,
          lastNoticeReceivedAt: 3,
          replyId: MAX_PEER_ID,
          lastReplyAt: 1,
          claimFailures: 3,
          claimFailedAt: -Number.MAX_VALUE,
        },
      },
    ],
  ] as const)("%s", (_, snapshot) => {
    const target = mustRestore({ v: 1, ...snapshot });
    expect(runWitness(witnessFor(target))).toStrictEqual(target);
  });

  it("a witness really replays a short pump distance (no shortcut)", () => {
    const target = mustRestore(toJson(idlePending(4)));
    expect(runWitness(witnessFor(target))).toStrictEqual(target);
    expect(peerLeaves(target.value).olm).toBe("noticePending");
  });
});
