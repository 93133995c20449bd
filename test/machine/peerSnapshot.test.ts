import { describe, expect, it } from "vitest";
import {
  brokenInvariant,
  initialPeerSnapshot,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { MAX_PEER_ID } from "../../src/machine/timing.js";
import { HOUR, run } from "./peerHarness.js";

const busy = run([
  { type: "ESTABLISH_FAILED", at: 1 },
  { type: "NOTICE_SEND_FAILED", at: 2, noticeId: 1 },
  { type: "NOTICE_RECEIVED", at: 3 },
  { type: "REPLY_FAILED", at: 4, replyId: 1 },
]).snapshot;

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("S1: the state serialises to a small JSON value and restores", () => {
  it("S1 a persisted snapshot is plain JSON of a few hundred bytes", () => {
    const json = JSON.stringify(persistPeerSnapshot(busy));
    expect(json.length).toBeLessThan(300);
    expect(roundTrip(persistPeerSnapshot(busy))).toEqual(persistPeerSnapshot(busy));
  });

  it("S1 even with the longest leaves, ids and numbers it stays under 400 bytes", () => {
    const longest = -Number.MAX_VALUE; // 24 characters, as long as a number prints
    const json = JSON.stringify(
      persistPeerSnapshot({
        value: {
          olm: { unreachable: "noticeDelivered" },
          reply: { replying: "existingSessionDummyQueued" },
        },
        context: {
          noticeId: MAX_PEER_ID,
          unreachableSince: longest,
          lastNoticeReceivedAt: longest,
          replyId: MAX_PEER_ID,
          lastReplyAt: longest,
          claimFailures: 8,
          claimFailedAt: longest,
        },
      }),
    );
    expect(String(longest)).toHaveLength(24);
    expect(json.length).toBeLessThan(400);
  });

  it("S1 restore gives back the same snapshot", () => {
    const restored = restorePeerSnapshot(roundTrip(persistPeerSnapshot(busy)));
    expect(restored).toEqual({ ok: true, value: busy });
  });

  it("S1 restore-then-continue behaves like never stopping", () => {
    const later = [
      { type: "NOTICE_SENT", at: 5, noticeId: 1 },
      { type: "NOTICE_RECEIVED", at: 5 + HOUR },
      { type: "DUMMY_QUEUED", at: 6 + HOUR, replyId: 2 },
      { type: "RESUMED", at: 7 + HOUR },
      { type: "REPLY_SUCCEEDED", at: 8 + HOUR, replyId: 2 },
    ] as const;
    const restored = restorePeerSnapshot(roundTrip(persistPeerSnapshot(busy)));
    if (!restored.ok) throw new Error(restored.detail);
    expect(run(later, restored.value)).toEqual(run(later, busy));
  });

  it.each([
    ["not an object", "snapshot"],
    ["unknown version", { ...persistPeerSnapshot(busy), v: 2 }],
    ["unknown state", { ...persistPeerSnapshot(busy), value: { olm: "sleeping", reply: "idle" } }],
    ["extra region", { ...persistPeerSnapshot(busy), value: { ...busy.value, extra: "idle" } }],
    ["missing context field", { v: 1, value: busy.value, context: { noticeId: 1 } }],
    ["string time", { v: 1, value: busy.value, context: { ...busy.context, claimFailedAt: "4" } }],
    ["negative id", { v: 1, value: busy.value, context: { ...busy.context, replyId: -1 } }],
    [
      "episode without a start",
      { v: 1, value: busy.value, context: { ...busy.context, unreachableSince: null } },
    ],
    [
      "backing off with no failure",
      { v: 1, value: busy.value, context: { ...busy.context, claimFailures: 0 } },
    ],
  ])("S1 restore rejects %s", (_, input) => {
    const result = restorePeerSnapshot(input);
    expect(result.ok).toBe(false);
  });

  it("S1 every restorable snapshot keeps the machine's invariants", () => {
    expect(brokenInvariant(initialPeerSnapshot)).toBeUndefined();
    expect(brokenInvariant(busy)).toBeUndefined();
  });
});
