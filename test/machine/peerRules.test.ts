import { describe, expect, it } from "vitest";
import { shapeRepresentative } from "../../src/machine/exploreShapes.js";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { peerStateValue } from "../../src/machine/peerShape.js";
import { type PeerSnapshot, peerLeaves } from "../../src/machine/peerSnapshot.js";
import { REACHABLE_SHAPES } from "../../src/machine/reachableShapeKeys.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { count, HOUR, MINUTE, run } from "./peerHarness.js";

const failed = (at: number): PeerEvent => ({ type: "ESTABLISH_FAILED", at });
const established = (at: number, origin: "outbound" | "inbound" = "outbound"): PeerEvent => ({
  type: "SESSION_ESTABLISHED",
  at,
  origin,
});
const sent = (at: number, noticeId: number): PeerEvent => ({ type: "NOTICE_SENT", at, noticeId });
const sendFailed = (at: number, noticeId: number): PeerEvent => ({
  type: "NOTICE_SEND_FAILED",
  at,
  noticeId,
});
const noticeIn = (at: number): PeerEvent => ({ type: "NOTICE_RECEIVED", at });
const queued = (at: number, replyId: number): PeerEvent => ({ type: "DUMMY_QUEUED", at, replyId });
const replied = (at: number, replyId: number): PeerEvent => ({
  type: "REPLY_SUCCEEDED",
  at,
  replyId,
});
/** The reply's m.dummy queued, then accepted by the homeserver at `at`. */
const delivered = (at: number, replyId: number): PeerEvent[] => [
  queued(at, replyId),
  replied(at, replyId),
];
const replyFailed = (at: number, replyId: number): PeerEvent => ({
  type: "REPLY_FAILED",
  at,
  replyId,
});

const resumed = (at: number): PeerEvent => ({ type: "RESUMED", at });
const lost = (at: number): PeerEvent => ({ type: "SESSION_LOST", at });
const claimRequested = (at: number): PeerEvent => ({ type: "CLAIM_REQUESTED", at });
const claimFailed = (at: number): PeerEvent => ({ type: "CLAIM_FAILED", at });
const deviceChanged = (at: number): PeerEvent => ({ type: "DEVICE_CHANGED", at });

/** The representative snapshot (exploreShapes.ts) of every reachable shape. */
const everyReachableShape = (): (readonly [string, PeerSnapshot])[] =>
  REACHABLE_SHAPES.map((key) => {
    const rep = shapeRepresentative(key);
    return [key, { value: peerStateValue(rep.olm, rep.reply), context: rep.context }] as const;
  });

const leaves = (s: PeerSnapshot) => peerLeaves(s.value);

describe("N1: the first failure of an episode sends exactly one m.no_olm", () => {
  it("N1 a fresh peer's first failure commands one sendNoOlm", () => {
    const r = run([failed(1000)]);
    expect(r.last).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
    expect(leaves(r.snapshot).olm).toBe("noticePending");
    expect(r.snapshot.context.unreachableSince).toBe(1000);
  });

  it("N1 a failure after an established session also starts an episode", () => {
    const r = run([established(1), failed(2)]);
    expect(r.last).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
  });
});

describe("N2: further failures in the same episode send nothing", () => {
  it("N2 ten failures while the notice is in flight: still one notice", () => {
    const events = [failed(0), ...Array.from({ length: 10 }, (_, i) => failed(i + 1))];
    const r = run(events);
    expect(count(r.commands, "sendNoOlm")).toBe(1);
    expect(r.commands).toHaveLength(1);
  });

  it("N2 failures after the notice was delivered send nothing either", () => {
    const r = run([failed(0), sent(1, 1), failed(2), failed(3), failed(4)]);
    expect(r.commands).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
    expect(leaves(r.snapshot).olm).toBe("noticeDelivered");
  });

  it("N2 SESSION_LOST is not a failure: no notice, no episode", () => {
    // The session goes: nothing is sent, no episode starts, the notice id stays.
    const gone = stepPeer(run([established(0)]).snapshot, lost(1));
    expect(gone).toMatchObject({ kind: "applied", commands: [] });
    expect(leaves(gone.snapshot).olm).toBe("noSession");
    expect(gone.snapshot.context).toStrictEqual(run([established(0)]).snapshot.context);
    // The next failure is the episode's first: one notice, the first notice id.
    const r = run([established(0), lost(1), failed(2), failed(3)]);
    expect(r.commands).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
    expect(r.snapshot.context.unreachableSince).toBe(2);
    // In an episode there is no session to lose: still one notice, and the episode goes on.
    const episode = run([failed(0), lost(1), failed(2), sent(3, 1), lost(4), failed(5)]);
    expect(episode.commands).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
    expect(leaves(episode.snapshot).olm).toBe("noticeDelivered");
    expect(episode.snapshot.context.unreachableSince).toBe(0);
    // After an episode ended (N4), a lost session and a failure notify once more.
    const again = run([failed(0), sent(1, 1), established(2), lost(3), failed(4)]);
    expect(again.commands).toEqual([
      { type: "sendNoOlm", noticeId: 1 },
      { type: "reportPeerReachable", unreachableSince: 0 },
      { type: "sendNoOlm", noticeId: 2 },
    ]);
  });

  it("N2 SESSION_LOST is ignored outside established, in every reachable shape; from established it only moves olm to noSession", () => {
    let applied = 0;
    for (const key of REACHABLE_SHAPES) {
      const rep = shapeRepresentative(key);
      const from: PeerSnapshot = {
        value: peerStateValue(rep.olm, rep.reply),
        context: rep.context,
      };
      for (const at of [-1, 0, Number.MAX_VALUE]) {
        const result = stepPeer(from, lost(at));
        if (rep.olm !== "established") {
          expect(result.kind, `${key} at ${at}`).toBe("ignored");
          expect(result.snapshot).toBe(from);
          continue;
        }
        applied += 1;
        expect(result, `${key} at ${at}`).toStrictEqual({
          kind: "applied",
          commands: [],
          snapshot: { value: peerStateValue("noSession", rep.reply), context: rep.context },
        });
      }
    }
    expect(applied).toBeGreaterThan(0);
  });

  it("N2 CLAIM_FAILED inside an episode sends nothing", () => {
    // After an ESTABLISH_FAILED, pending or delivered: nothing sent, the episode goes on, only
    // the claim backoff counts.
    for (const episode of [[failed(0)], [failed(0), sent(1, 1)]]) {
      const r = run([...episode, claimFailed(2), claimFailed(3), failed(4), claimFailed(5)]);
      expect(r.commands).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
      expect(leaves(r.snapshot).olm).toBe(
        episode.length === 1 ? "noticePending" : "noticeDelivered",
      );
      expect(r.snapshot.context).toMatchObject({
        noticeId: 1,
        unreachableSince: 0,
        claimFailures: 3,
        claimFailedAt: 5,
      });
    }
    // A CLAIM_FAILED that starts the episode is its one notice; failures of either kind after
    // it add none.
    const r = run([claimFailed(0), failed(1), claimFailed(2), sendFailed(3, 1), claimFailed(4)]);
    expect(r.commands).toEqual([
      { type: "sendNoOlm", noticeId: 1 },
      { type: "retryNoOlm", noticeId: 1 },
    ]);
    // In every reachable shape in an episode: no command, and nothing changes but the backoff.
    let checked = 0;
    for (const [key, from] of everyReachableShape()) {
      if (typeof from.value.olm !== "object") continue;
      checked += 1;
      const result = stepPeer(from, claimFailed(7));
      expect(result.kind, key).toBe("applied");
      expect(result.kind === "applied" ? result.commands : undefined, key).toEqual([]);
      expect(result.snapshot, key).toStrictEqual({
        value: from.value,
        context: {
          ...from.context,
          claimFailures: Math.min(from.context.claimFailures + 1, 8),
          claimFailedAt: 7,
        },
      });
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("N2 a repeated failure is reported as ignored and changes nothing", () => {
    const before = run([failed(0)]).snapshot;
    const result = stepPeer(before, failed(5));
    expect(result.kind).toBe("ignored");
    expect(result.snapshot).toBe(before);
  });
});

describe("N3: a notice counts as delivered only when the transport acknowledges it", () => {
  it("N3 without an ack the notice stays pending", () => {
    expect(leaves(run([failed(0)]).snapshot).olm).toBe("noticePending");
  });

  it("N3 a failed send keeps it pending and asks to retry the same notice", () => {
    const r = run([failed(0), sendFailed(1, 1)]);
    expect(r.last).toEqual([{ type: "retryNoOlm", noticeId: 1 }]);
    expect(leaves(r.snapshot).olm).toBe("noticePending");
    const acked = run([sendFailed(2, 1), sendFailed(3, 1), sent(4, 1)], r.snapshot);
    expect(count(acked.commands, "retryNoOlm")).toBe(2);
    expect(count(acked.commands, "sendNoOlm")).toBe(0);
    expect(leaves(acked.snapshot).olm).toBe("noticeDelivered");
  });

  it("N3 an ack for another notice id is stale and ignored", () => {
    const pending = run([failed(0)]).snapshot;
    for (const noticeId of [0, 2, 99]) {
      const result = stepPeer(pending, sent(1, noticeId));
      expect(result.kind).toBe("ignored");
      expect(result.snapshot).toBe(pending);
    }
  });

  it("N3 an ack after delivery, or with no episode, is ignored", () => {
    const delivered = run([failed(0), sent(1, 1)]).snapshot;
    expect(stepPeer(delivered, sent(2, 1)).kind).toBe("ignored");
    expect(stepPeer(delivered, sendFailed(2, 1)).kind).toBe("ignored");
    const fresh = run([]).snapshot;
    expect(stepPeer(fresh, sent(1, 0)).kind).toBe("ignored");
  });
});

describe("N4: an established session ends the episode; the next failure notifies again", () => {
  it.each(["outbound", "inbound"] as const)(
    "N4 a %s session ends a delivered episode and a new failure sends a new notice",
    (origin) => {
      const r = run([failed(0), sent(1, 1), established(50, origin), failed(60)]);
      expect(r.commands).toEqual([
        { type: "sendNoOlm", noticeId: 1 },
        { type: "reportPeerReachable", unreachableSince: 0 },
        { type: "sendNoOlm", noticeId: 2 },
      ]);
    },
  );

  it("N4 a session while the notice is in flight withdraws it and ends the episode", () => {
    const r = run([failed(10), established(20)]);
    expect(r.last).toEqual([
      { type: "withdrawNoOlm", noticeId: 1 },
      { type: "reportPeerReachable", unreachableSince: 10 },
    ]);
    expect(leaves(r.snapshot).olm).toBe("established");
    expect(r.snapshot.context.unreachableSince).toBeNull();
    // The late ack of the withdrawn notice is stale.
    expect(stepPeer(r.snapshot, sent(30, 1)).kind).toBe("ignored");
  });

  it("N4 a new session made to answer the peer's notice also ends the episode", () => {
    const r = run([failed(0), sent(1, 1), noticeIn(2), ...delivered(3, 1), failed(4)]);
    expect(count(r.commands, "reportPeerReachable")).toBe(1);
    expect(count(r.commands, "sendNoOlm")).toBe(2);
  });

  it("N4 a new-session reply's session ends a failure episode when the m.dummy is queued", () => {
    // Pending notice: withdrawn, the episode ends on DUMMY_QUEUED, before any delivery.
    const pending = run([failed(10), noticeIn(20), queued(30, 1)]);
    expect(pending.last).toEqual([
      { type: "withdrawNoOlm", noticeId: 1 },
      { type: "reportPeerReachable", unreachableSince: 10 },
    ]);
    expect(leaves(pending.snapshot)).toEqual({
      olm: "established",
      reply: "newSessionDummyQueued",
    });
    expect(pending.snapshot.context.unreachableSince).toBeNull();
    // Delivery reports the reply only; the episode is not ended twice.
    expect(run([replied(40, 1)], pending.snapshot).last).toEqual([
      { type: "reportRepliedToNotice", newSession: true },
    ]);
    // A lost m.dummy does not bring the episode back: the session exists.
    const lost = run([replyFailed(40, 1)], pending.snapshot);
    expect(lost.last).toEqual([]);
    expect(leaves(lost.snapshot)).toEqual({ olm: "established", reply: "idle" });
    // Delivered notice: only the report.
    const deliveredNotice = run([failed(10), sent(11, 1), noticeIn(20), queued(30, 1)]);
    expect(deliveredNotice.last).toEqual([{ type: "reportPeerReachable", unreachableSince: 10 }]);
  });

  it("N4 an existing-session m.dummy queued during an episode does not end it", () => {
    const r = run([established(0), noticeIn(1), failed(2), queued(3, 1), replied(4, 1)]);
    expect(count(r.commands, "reportPeerReachable")).toBe(0);
    expect(leaves(r.snapshot)).toEqual({ olm: "noticePending", reply: "idle" });
  });

  it("N4 three episodes send three notices, one each", () => {
    const events: PeerEvent[] = [];
    for (let episode = 1; episode <= 3; episode++) {
      const t = episode * 1000;
      events.push(
        failed(t),
        failed(t + 1),
        sent(t + 2, episode),
        failed(t + 3),
        established(t + 4),
      );
    }
    const r = run(events);
    expect(count(r.commands, "sendNoOlm")).toBe(3);
    expect(count(r.commands, "reportPeerReachable")).toBe(3);
  });
});

describe("R1: a received m.no_olm asks for an m.dummy over a new or the existing session", () => {
  it("R1 without a session: claim a key, create a session, send m.dummy", () => {
    const r = run([noticeIn(5)]);
    expect(r.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
    expect(leaves(r.snapshot).reply).toBe("newSession");
    const inOutbox = run([queued(6, 1)], r.snapshot);
    expect(inOutbox.last).toEqual([]);
    expect(leaves(inOutbox.snapshot)).toEqual({
      olm: "established",
      reply: "newSessionDummyQueued",
    });
    const done = run([replied(7, 1)], inOutbox.snapshot);
    expect(done.last).toEqual([{ type: "reportRepliedToNotice", newSession: true }]);
    expect(leaves(done.snapshot)).toEqual({ olm: "established", reply: "idle" });
    expect(done.snapshot.context.lastReplyAt).toBe(7);
  });

  it("R1 after SESSION_LOST the next notice is answered with a new session", () => {
    // The session the peer's pre-key message made is gone from the backend.
    const r = run([established(0, "inbound"), lost(1), noticeIn(2)]);
    expect(r.commands).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
    expect(leaves(r.snapshot)).toEqual({ olm: "noSession", reply: "newSession" });
    const done = run([queued(3, 1), replied(4, 1)], r.snapshot);
    expect(done.commands).toEqual([{ type: "reportRepliedToNotice", newSession: true }]);
    expect(leaves(done.snapshot)).toEqual({ olm: "established", reply: "idle" });
    // The same after an existing-session reply: once the hour is over, a new session.
    const earlier = run([established(0), noticeIn(1), ...delivered(2, 1), lost(3)]);
    expect(run([noticeIn(2 + HOUR - 1)], earlier.snapshot).last).toEqual([]);
    expect(run([noticeIn(2 + HOUR)], earlier.snapshot).last).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
    // Lost while an existing-session reply is in flight: that reply runs on; the next one
    // claims.
    const inFlight = run([established(0), noticeIn(1), lost(2), queued(3, 1), replyFailed(4, 1)]);
    expect(inFlight.commands).toEqual([{ type: "sendDummy", replyId: 1 }]);
    expect(run([noticeIn(5)], inFlight.snapshot).last).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
  });

  it("R1 with a session: send m.dummy over it, no key claim", () => {
    const r = run([established(1, "inbound"), noticeIn(5)]);
    expect(r.last).toEqual([{ type: "sendDummy", replyId: 1 }]);
    const inOutbox = run([queued(6, 1)], r.snapshot);
    expect(leaves(inOutbox.snapshot).reply).toBe("existingSessionDummyQueued");
    const done = run([replied(7, 1)], inOutbox.snapshot);
    expect(done.last).toEqual([{ type: "reportRepliedToNotice", newSession: false }]);
  });

  it("R1 a reply is done only when its m.dummy, once queued, is accepted", () => {
    const claiming = run([noticeIn(1)]).snapshot;
    // Accepted before it was queued: no such m.dummy, ignored.
    expect(stepPeer(claiming, replied(2, 1)).kind).toBe("ignored");
    const inOutbox = run([queued(2, 1)], claiming).snapshot;
    // Queued twice: nothing new.
    expect(stepPeer(inOutbox, queued(3, 1)).kind).toBe("ignored");
    // Notices while it waits are recorded and answered by it.
    const noticed = run([noticeIn(4)], inOutbox);
    expect(noticed.last).toEqual([]);
    expect(noticed.snapshot.context.lastNoticeReceivedAt).toBe(4);
    expect(leaves(noticed.snapshot).reply).toBe("newSessionDummyQueued");
  });

  it("R1 notices arriving while a reply is in flight are answered by that reply", () => {
    const r = run([noticeIn(1), noticeIn(2), noticeIn(3)]);
    expect(r.commands).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
  });

  it("R1 a stale reply answer is ignored", () => {
    const replying = run([noticeIn(1)]).snapshot;
    expect(stepPeer(replying, queued(2, 7)).kind).toBe("ignored");
    expect(stepPeer(replying, replied(2, 7)).kind).toBe("ignored");
    expect(stepPeer(replying, replyFailed(2, 0)).kind).toBe("ignored");
  });

  it("R1 stale DUMMY_QUEUED and REPLY_SUCCEEDED ids are ignored, in every reply state", () => {
    // Restarted: the reply is now 2, so the first attempt's outcomes are stale.
    const restarted = run([failed(0), noticeIn(1), resumed(2)]).snapshot;
    expect(restarted.context.replyId).toBe(2);
    for (const stale of [queued(3, 1), replied(3, 1), replyFailed(3, 1), queued(3, 3)]) {
      const result = stepPeer(restarted, stale);
      expect(result.kind, JSON.stringify(stale)).toBe("ignored");
      expect(result.snapshot).toBe(restarted);
    }
    const inOutbox = run([queued(3, 2)], restarted).snapshot;
    expect(leaves(inOutbox)).toEqual({ olm: "established", reply: "newSessionDummyQueued" });
    for (const stale of [queued(4, 1), replied(4, 1), replyFailed(4, 1), replied(4, 3)]) {
      const result = stepPeer(inOutbox, stale);
      expect(result.kind, JSON.stringify(stale)).toBe("ignored");
      expect(result.snapshot).toBe(inOutbox);
    }
    // With no reply in flight, no reply outcome means anything.
    const done = run([replied(5, 2)], inOutbox).snapshot;
    expect(done.context.lastReplyAt).toBe(5);
    for (const late of [queued(6, 2), replied(6, 2), replyFailed(6, 2)]) {
      expect(stepPeer(done, late).kind, JSON.stringify(late)).toBe("ignored");
    }
    // The same over an existing session: reply 3 restarted as 4, then queued.
    const restartedOver = run([noticeIn(5 + HOUR), resumed(5 + HOUR)], done).snapshot;
    expect(leaves(restartedOver).reply).toBe("existingSession");
    expect(restartedOver.context.replyId).toBe(4);
    for (const stale of [queued(6 + HOUR, 3), replied(6 + HOUR, 4), replyFailed(6 + HOUR, 3)]) {
      expect(stepPeer(restartedOver, stale).kind, JSON.stringify(stale)).toBe("ignored");
    }
    const overSession = run([queued(6 + HOUR, 4)], restartedOver).snapshot;
    expect(leaves(overSession).reply).toBe("existingSessionDummyQueued");
    for (const stale of [queued(7 + HOUR, 4), replied(7 + HOUR, 3), replyFailed(7 + HOUR, 5)]) {
      const result = stepPeer(overSession, stale);
      expect(result.kind, JSON.stringify(stale)).toBe("ignored");
      expect(result.snapshot).toBe(overSession);
    }
  });
});

describe("R2: at most one new session per peer per hour because of notices", () => {
  it("R2 a second notice inside the hour produces no command", () => {
    const r = run([noticeIn(0), ...delivered(1000, 1), noticeIn(1000 + HOUR - 1)]);
    expect(r.last).toEqual([]);
    expect(count(r.commands, "claimKeyAndSendDummy")).toBe(1);
  });

  it("R2 one hour after the reply a notice may create a new session again", () => {
    const r = run([noticeIn(0), ...delivered(1000, 1), failed(2000), noticeIn(1000 + HOUR)]);
    expect(r.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
  });

  it("R2 the hour starts when the m.dummy is delivered, not when it is queued", () => {
    const queuedAt = 1000;
    const deliveredAt = queuedAt + 40 * MINUTE;
    for (const before of [[established(0)], []]) {
      const r = run([...before, noticeIn(500), queued(queuedAt, 1), replied(deliveredAt, 1)]);
      expect(r.snapshot.context.lastReplyAt).toBe(deliveredAt);
      // An hour after queueing, but inside the hour after delivery: recorded only.
      expect(run([noticeIn(queuedAt + HOUR)], r.snapshot).last).toEqual([]);
      expect(run([noticeIn(deliveredAt + HOUR - 1)], r.snapshot).last).toEqual([]);
      // An hour after delivery: answered (over the session the first reply made, if new).
      expect(run([noticeIn(deliveredAt + HOUR)], r.snapshot).last).toEqual([
        { type: "sendDummy", replyId: 2 },
      ]);
    }
    // Queued over an existing session but never delivered: no hour at all.
    const lostDummy = run([established(0), noticeIn(0), queued(1, 1), replyFailed(2, 1)]);
    expect(run([noticeIn(3)], lostDummy.snapshot).last).toEqual([
      { type: "sendDummy", replyId: 2 },
    ]);
  });

  it("R2 a lost new-session m.dummy still starts the hour: no second new session within it", () => {
    // The session made for the reply goes with a new episode (or is lost) before the m.dummy
    // is; the next notice must not claim again inside the hour.
    for (const gone of [failed(2), lost(2)]) {
      const r = run([noticeIn(0), queued(1, 1), gone, replyFailed(3, 1)]);
      expect(r.commands.filter((c) => c.type !== "sendNoOlm")).toEqual([
        { type: "claimKeyAndSendDummy", replyId: 1 },
      ]);
      expect(leaves(r.snapshot).reply).toBe("idle");
      expect(r.snapshot.context).toMatchObject({
        lastReplyAt: 3,
        claimFailures: 0,
        claimFailedAt: null,
      });
      expect(run([noticeIn(4)], r.snapshot).last).toEqual([]);
      expect(run([noticeIn(3 + HOUR - 1)], r.snapshot).last).toEqual([]);
      expect(run([noticeIn(3 + HOUR)], r.snapshot).last).toEqual([
        { type: "claimKeyAndSendDummy", replyId: 2 },
      ]);
    }
    // With the session still there, the reply after the hour goes over it.
    const kept = run([noticeIn(0), queued(1, 1), replyFailed(3, 1)]);
    expect(run([noticeIn(3 + HOUR - 1)], kept.snapshot).last).toEqual([]);
    expect(run([noticeIn(3 + HOUR)], kept.snapshot).last).toEqual([
      { type: "sendDummy", replyId: 2 },
    ]);
    // The loss is no reply to the peer: the client is not told to re-request keys.
    expect(count(kept.commands, "reportRepliedToNotice")).toBe(0);
  });

  it("R2 a lost existing-session m.dummy starts no hour", () => {
    const cases: readonly (readonly [
      readonly PeerEvent[],
      "sendDummy" | "claimKeyAndSendDummy",
    ])[] = [
      [[established(0), noticeIn(1)], "sendDummy"],
      // after an earlier delivered reply: that one's hour still counts, nothing more
      [[established(0), noticeIn(-2 * HOUR), ...delivered(-2 * HOUR, 1), noticeIn(1)], "sendDummy"],
      // the session failed (an episode) or went while the reply was in flight: answered at
      // once all the same, over a new session
      [[established(0), noticeIn(1), failed(1)], "claimKeyAndSendDummy"],
      [[established(0), noticeIn(1), lost(1)], "claimKeyAndSendDummy"],
    ];
    for (const [before, answer] of cases) {
      const replying = run(before).snapshot;
      const { replyId, lastReplyAt } = replying.context;
      const inOutbox = run([queued(2, replyId)], replying).snapshot;
      expect(leaves(inOutbox).reply).toBe("existingSessionDummyQueued");
      const dropped = stepPeer(inOutbox, replyFailed(3, replyId));
      expect(dropped).toMatchObject({ kind: "applied", commands: [] });
      expect(leaves(dropped.snapshot).reply).toBe("idle");
      expect(dropped.snapshot.context.lastReplyAt).toBe(lastReplyAt);
      expect(run([noticeIn(4)], dropped.snapshot).last).toEqual([
        { type: answer, replyId: replyId + 1 },
      ]);
    }
  });

  it("R2 an m.dummy that waits in the outbox for over an hour still counts from delivery", () => {
    const r = run([noticeIn(0), queued(1, 1), noticeIn(2 * HOUR), replied(3 * HOUR, 1)]);
    expect(r.commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 1 },
      {
        type: "reportRepliedToNotice",
        newSession: true,
      },
    ]);
    expect(run([noticeIn(4 * HOUR - 1)], r.snapshot).last).toEqual([]);
    expect(run([noticeIn(4 * HOUR)], r.snapshot).last).toEqual([{ type: "sendDummy", replyId: 2 }]);
  });

  it("R2 100 notices within an hour: one new session", () => {
    const events: PeerEvent[] = [noticeIn(0), ...delivered(10, 1)];
    for (let i = 1; i <= 99; i++) events.push(noticeIn(10 + i * 30_000));
    const r = run(events);
    expect(count(r.commands, "claimKeyAndSendDummy")).toBe(1);
    expect(count(r.commands, "sendDummy")).toBe(0);
  });

  it("R2 a clock that goes backwards restarts the wait instead of shortening it", () => {
    const r = run([noticeIn(10 * HOUR), ...delivered(10 * HOUR, 1), failed(10 * HOUR + 1)]);
    // The clock jumps back five hours: the notice is recorded, the hour starts again from it.
    const back = run([noticeIn(5 * HOUR)], r.snapshot);
    expect(back.last).toEqual([]);
    expect(back.snapshot.context.lastReplyAt).toBe(5 * HOUR);
    expect(run([noticeIn(6 * HOUR - 1)], back.snapshot).last).toEqual([]);
    expect(run([noticeIn(6 * HOUR)], back.snapshot).last).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
  });
});

describe("R3: a failed key claim sends nothing and backs off 15 s × 2ⁿ, capped at 15 min", () => {
  it("R3 a failed claim sends no m.dummy and no m.no_olm back", () => {
    const r = run([noticeIn(0), replyFailed(1, 1)]);
    expect(r.last).toEqual([]);
    expect(leaves(r.snapshot)).toEqual({ olm: "noSession", reply: "backingOff" });
  });

  it("R3 retries wait 15 s, 30 s, 60 s, … up to 15 min", () => {
    let t = 0;
    let r = run([noticeIn(t), replyFailed(t, 1)]);
    const waits = [15, 30, 60, 120, 240, 480, 900, 900, 900].map((s) => s * 1000);
    waits.forEach((wait, i) => {
      const tooEarly = run([noticeIn(t + wait - 1)], r.snapshot);
      expect(tooEarly.last, `attempt ${i + 2} before ${wait} ms`).toEqual([]);
      t += wait;
      const retry = run([noticeIn(t)], tooEarly.snapshot);
      expect(retry.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: i + 2 }]);
      r = run([replyFailed(t, i + 2)], retry.snapshot);
    });
  });

  it("R3 a successful session clears the backoff", () => {
    const backingOff = run([noticeIn(0), replyFailed(1, 1)]);
    expect(leaves(backingOff.snapshot).reply).toBe("backingOff");
    const cleared = run([established(20_000, "inbound")], backingOff.snapshot);
    expect(leaves(cleared.snapshot).reply).toBe("idle");
    expect(cleared.snapshot.context.claimFailures).toBe(0);
    expect(cleared.snapshot.context.claimFailedAt).toBeNull();
  });

  it("R3 a successful reply after backing off clears the backoff", () => {
    const r = run([noticeIn(0), replyFailed(1, 1), noticeIn(15_001), ...delivered(15_002, 2)]);
    expect(r.snapshot.context.claimFailures).toBe(0);
    expect(leaves(r.snapshot).reply).toBe("idle");
  });

  it("R3 a session made by our own claim clears the backoff even if its m.dummy is lost", () => {
    for (const episode of [[], [failed(-1)]]) {
      const retrying = run([...episode, noticeIn(0), replyFailed(1, 1), noticeIn(15_001)]);
      expect(retrying.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
      expect(retrying.snapshot.context.claimFailures).toBe(1);
      // The claim worked: a session exists and the backoff is over, before any delivery.
      const made = run([queued(15_002, 2)], retrying.snapshot).snapshot;
      expect(leaves(made)).toEqual({ olm: "established", reply: "newSessionDummyQueued" });
      expect(made.context).toMatchObject({ claimFailures: 0, claimFailedAt: null });
      // Its m.dummy is lost: still no backoff left behind.
      const dropped = run([replyFailed(15_003, 2)], made).snapshot;
      expect(leaves(dropped).reply).toBe("idle");
      expect(dropped.context).toMatchObject({ claimFailures: 0, claimFailedAt: null });
      // So a later failed claim is the first rung again: 15 s, not 30 s.
      const t = 15_003 + HOUR;
      const failedAgain = run([lost(t), noticeIn(t), replyFailed(t, 3)], dropped).snapshot;
      expect(failedAgain.context.claimFailures).toBe(1);
      expect(run([noticeIn(t + 15_000)], failedAgain).last).toEqual([
        { type: "claimKeyAndSendDummy", replyId: 4 },
      ]);
    }
  });

  it("R3 a failed dummy over an existing session does not back off", () => {
    const r = run([established(0), noticeIn(1), replyFailed(2, 1)]);
    expect(leaves(r.snapshot).reply).toBe("idle");
    expect(r.snapshot.context.claimFailures).toBe(0);
  });

  it("R3 REPLY_FAILED after DUMMY_QUEUED returns to idle with no backoff; the hour only for a new session", () => {
    const cases: readonly (readonly [readonly PeerEvent[], boolean])[] = [
      // a new-session reply (it made the session), in and out of an episode
      [[noticeIn(1)], true],
      [[failed(0), noticeIn(1)], true],
      // an existing-session reply, also after an earlier delivered reply
      [[established(0), noticeIn(1)], false],
      [[established(0), noticeIn(-2 * HOUR), ...delivered(-2 * HOUR, 1), noticeIn(1)], false],
    ];
    for (const [before, newSession] of cases) {
      const replying = run(before).snapshot;
      const { replyId, lastReplyAt } = replying.context;
      const inOutbox = run([queued(2, replyId)], replying).snapshot;
      const dropped = stepPeer(inOutbox, replyFailed(3, replyId));
      expect(dropped).toMatchObject({ kind: "applied", commands: [] });
      expect(leaves(dropped.snapshot)).toEqual({ olm: "established", reply: "idle" });
      // No backoff ...
      expect(dropped.snapshot.context.claimFailures).toBe(0);
      expect(dropped.snapshot.context.claimFailedAt).toBeNull();
      // ... and the hour from the loss if a session was made for the reply (R2), else none.
      expect(dropped.snapshot.context.lastReplyAt).toBe(newSession ? 3 : lastReplyAt);
      expect(run([noticeIn(4)], dropped.snapshot).last).toEqual(
        newSession ? [] : [{ type: "sendDummy", replyId: replyId + 1 }],
      );
    }
  });
});

describe("R4: the time of the last m.no_olm received is kept", () => {
  it("R4 every valid notice updates it, whether or not it is answered", () => {
    const r = run([noticeIn(100), ...delivered(101, 1), noticeIn(200), noticeIn(300)]);
    expect(r.snapshot.context.lastNoticeReceivedAt).toBe(300);
  });

  it("R4 an earlier reading replaces it: a clock that ran ahead does not stick", () => {
    const r = run([noticeIn(500), noticeIn(400)]);
    expect(r.snapshot.context.lastNoticeReceivedAt).toBe(400);
  });
});

describe("R5: share-time claims back off like reply claims, one backoff per device", () => {
  const WAITS = [15, 30, 60, 120, 240, 480, 900, 900, 900, 900].map((s) => s * 1000);

  it("R5 a failed share-time claim backs the device off 15 s, then 30 s, …, capped at 15 min", () => {
    let t = 1_000;
    let r = run([claimRequested(t), claimFailed(t)]);
    // The failure is also a failure to reach the device (N1): one notice.
    expect(r.commands).toEqual([{ type: "claimForShare" }, { type: "sendNoOlm", noticeId: 1 }]);
    WAITS.forEach((wait, i) => {
      expect(r.snapshot.context).toMatchObject({
        claimFailures: Math.min(i + 1, 8),
        claimFailedAt: t,
      });
      expect(run([claimRequested(t + wait - 1)], r.snapshot).last, `share ${i + 2}`).toEqual([
        { type: "skipClaim", until: t + wait },
      ]);
      t += wait;
      const due = run([claimRequested(t)], r.snapshot);
      expect(due.last, `share ${i + 2} after ${wait} ms`).toEqual([{ type: "claimForShare" }]);
      // Failing again, inside the episode: a longer wait, no notice (N2).
      r = run([claimFailed(t)], due.snapshot);
      expect(r.last).toEqual([]);
    });
    expect(r.snapshot.context.claimFailures).toBe(8);
  });

  it("R5 a share inside the backoff skips the claim and says until when", () => {
    const backingOff = run([claimFailed(100_000), claimFailed(100_500)]).snapshot;
    // Two failures: 30 s from the last one.
    for (const at of [100_500, 110_000, 130_499]) {
      expect(run([claimRequested(at)], backingOff).last, `at ${at}`).toEqual([
        { type: "skipClaim", until: 130_500 },
      ]);
    }
    expect(run([claimRequested(130_500)], backingOff).last).toEqual([{ type: "claimForShare" }]);
    // A clock gone back: the wait runs from that reading, and `until` says so.
    const back = run([claimRequested(40_000)], backingOff);
    expect(back.last).toEqual([{ type: "skipClaim", until: 70_000 }]);
    expect(back.snapshot.context.claimFailedAt).toBe(40_000);
    expect(run([claimRequested(69_999)], back.snapshot).last).toEqual([
      { type: "skipClaim", until: 70_000 },
    ]);
    expect(run([claimRequested(70_000)], back.snapshot).last).toEqual([{ type: "claimForShare" }]);
    // A failed reply claim backs share-time claims off too: one backoff per device.
    const afterReply = run([noticeIn(0), replyFailed(10, 1), claimRequested(14_999)]);
    expect(afterReply.last).toEqual([{ type: "skipClaim", until: 15_010 }]);
    expect(run([claimRequested(15_010)], afterReply.snapshot).last).toEqual([
      { type: "claimForShare" },
    ]);
  });

  it("R5 skipping a claim is no failure: no notice, no state change", () => {
    const r = run([claimFailed(0), ...Array.from({ length: 20 }, (_, i) => claimRequested(i))]);
    expect(count(r.commands, "sendNoOlm")).toBe(1);
    expect(count(r.commands, "skipClaim")).toBe(20);
    expect(r.commands).toHaveLength(21);
    // Twenty skips do not lengthen the wait: still one failure, still 15 s.
    expect(r.snapshot.context).toMatchObject({ claimFailures: 1, claimFailedAt: 0 });
    expect(run([claimRequested(15_000)], r.snapshot).last).toEqual([{ type: "claimForShare" }]);
    // In every reachable shape: a claim request at the backoff's anchor (inside any backoff)
    // is answered by one decision and leaves the snapshot as it was.
    let skipped = 0;
    for (const [key, from] of everyReachableShape()) {
      const { claimFailedAt, claimFailures } = from.context;
      const at = claimFailedAt ?? 0;
      const wait = Math.min(15_000 * 2 ** (claimFailures - 1), 15 * MINUTE);
      const decision =
        claimFailedAt === null
          ? { type: "claimForShare" }
          : { type: "skipClaim", until: claimFailedAt + wait };
      if (decision.type === "skipClaim") skipped += 1;
      const result = stepPeer(from, claimRequested(at));
      expect(result, key).toStrictEqual({ kind: "applied", commands: [decision], snapshot: from });
    }
    expect(skipped).toBeGreaterThan(5000);
  });

  it("R5 a session of any origin, or DEVICE_CHANGED, ends the backoff", () => {
    const ends: readonly (readonly [string, PeerEvent])[] = [
      ["outbound", { type: "SESSION_ESTABLISHED", at: 20, origin: "outbound" }],
      ["inbound", { type: "SESSION_ESTABLISHED", at: 20, origin: "inbound" }],
      ["existing", { type: "SESSION_ESTABLISHED", at: 20, origin: "existing" }],
      ["DEVICE_CHANGED", deviceChanged(20)],
    ];
    // Three failed claims (shares and a reply's), then the backoff is ended: in idle, while a
    // notice waits in backingOff, while a reply's claim is in flight.
    const waited = [noticeIn(0), claimFailed(1), replyFailed(2, 1), claimFailed(3)];
    const setups: readonly (readonly [string, readonly PeerEvent[]])[] = [
      ["idle", [claimFailed(0), claimFailed(1), claimFailed(2)]],
      ["backingOff", waited],
      // The backoff ended once, a reply's claim started, and two shares failed meanwhile.
      ["replying", [...waited, deviceChanged(4), noticeIn(5), claimFailed(6), claimFailed(7)]],
    ];
    for (const [where, setup] of setups) {
      const before = run(setup).snapshot;
      expect(before.context.claimFailures, where).toBe(where === "replying" ? 2 : 3);
      expect(leaves(before).reply, where).toBe(where === "replying" ? "newSession" : where);
      for (const [what, end] of ends) {
        const label = `${what} in ${where}`;
        const ended = run([end], before).snapshot;
        expect(ended.context, label).toMatchObject({ claimFailures: 0, claimFailedAt: null });
        expect(leaves(ended).reply, label).toBe(where === "replying" ? "newSession" : "idle");
        expect(run([claimRequested(21)], ended).last, label).toEqual([{ type: "claimForShare" }]);
        // The next failure is the first step again: 15 s.
        const again = run([claimFailed(21)], ended).snapshot;
        expect(run([claimRequested(15_020)], again).last, label).toEqual([
          { type: "skipClaim", until: 15_021 },
        ]);
      }
    }
    // With no backoff, DEVICE_CHANGED changes nothing.
    for (const events of [[], [established(0)], [failed(0)], [noticeIn(0)]]) {
      const from = run(events).snapshot;
      expect(stepPeer(from, deviceChanged(5)).kind).toBe("ignored");
    }
  });

  it("R5 a notice inside a share-time backoff is not answered with a claim", () => {
    for (const episode of [[], [failed(-5)], [failed(-5), sent(-4, 1)]]) {
      const r = run([...episode, claimFailed(0), noticeIn(1_000)]);
      expect(r.last).toEqual([]);
      expect(leaves(r.snapshot).reply).toBe("backingOff");
      // The notice is recorded all the same (R4), and no reply was started.
      expect(r.snapshot.context).toMatchObject({ lastNoticeReceivedAt: 1_000, replyId: 0 });
      expect(count(r.commands, "claimKeyAndSendDummy")).toBe(0);
      expect(run([noticeIn(14_999)], r.snapshot).last).toEqual([]);
      // Once the backoff is over, the next notice claims.
      expect(run([noticeIn(15_000)], r.snapshot).last).toEqual([
        { type: "claimKeyAndSendDummy", replyId: 1 },
      ]);
    }
    // Inside the hour after a reply the hour decides first: recorded only, no backingOff.
    const replied1 = run([noticeIn(0), ...delivered(1, 1), lost(2), claimFailed(3), noticeIn(4)]);
    expect(replied1.last).toEqual([]);
    expect(leaves(replied1.snapshot).reply).toBe("idle");
    // With a session the notice is answered over it: no claim needed, nothing to wait for.
    const overSession = run([claimFailed(0), established(1, "inbound"), noticeIn(2)]);
    expect(overSession.last).toEqual([{ type: "sendDummy", replyId: 1 }]);
  });
});

describe("S1: invalid events change nothing", () => {
  it.each([
    ["not an object", 42],
    ["unknown type", { type: "EXPLODE", at: 1 }],
    ["missing time", { type: "ESTABLISH_FAILED" }],
    ["NaN time", { type: "NOTICE_RECEIVED", at: Number.NaN }],
    ["negative id", { type: "NOTICE_SENT", at: 1, noticeId: -1 }],
    ["fractional id", { type: "REPLY_SUCCEEDED", at: 1, replyId: 1.5 }],
    ["bad origin", { type: "SESSION_ESTABLISHED", at: 1, origin: "telepathy" }],
    ["a claim request without a time", { type: "CLAIM_REQUESTED" }],
    ["a failed claim at NaN", { type: "CLAIM_FAILED", at: Number.NaN }],
    ["a device change with a string time", { type: "DEVICE_CHANGED", at: "1" }],
  ])("S1 rejects %s", (_, input) => {
    const before = run([failed(0)]).snapshot;
    const result = stepPeer(before, input);
    expect(result.kind).toBe("rejected");
    expect(result.snapshot).toBe(before);
  });

  it("S1 a minute of silence changes nothing: time only arrives with events", () => {
    const a = run([noticeIn(0), replyFailed(1, 1)]).snapshot;
    const b = run([noticeIn(MINUTE)], a);
    expect(b.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
  });
});

describe("S2: a restart (RESUMED) leaves nothing stuck", () => {
  it("S2 a reply over a new session that was in flight starts again, with a fresh id", () => {
    const before = run([noticeIn(0)]);
    expect(before.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
    const after = run([resumed(5)], before.snapshot);
    expect(after.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
    // The old attempt's late outcome is stale; the new one completes the reply.
    expect(stepPeer(after.snapshot, queued(6, 1)).kind).toBe("ignored");
    const done = run([queued(6, 2), replied(7, 2)], after.snapshot);
    expect(leaves(done.snapshot)).toEqual({ olm: "established", reply: "idle" });
    expect(done.last).toEqual([{ type: "reportRepliedToNotice", newSession: true }]);
  });

  it("S2 RESUMED with an m.dummy queued commands ensureDummyQueued, keeps the id", () => {
    for (const [before, newSession] of [
      [[noticeIn(0)], true],
      [[established(0), noticeIn(0)], false],
    ] as const) {
      const inOutbox = run([...before, queued(1, 1)]).snapshot;
      const after = stepPeer(inOutbox, resumed(2));
      expect(after).toMatchObject({
        kind: "applied",
        commands: [{ type: "ensureDummyQueued", replyId: 1 }],
      });
      // Same state, same id: the m.dummy's delivery still completes the reply.
      expect(after.snapshot).toStrictEqual(inOutbox);
      const again = run([resumed(3), replied(4, 1)], after.snapshot);
      expect(again.commands).toEqual([
        { type: "ensureDummyQueued", replyId: 1 },
        { type: "reportRepliedToNotice", newSession },
      ]);
    }
    // In an episode started meanwhile, the pending notice is made sure of too, olm first.
    const both = run([noticeIn(0), queued(1, 1), failed(2), resumed(3)]);
    expect(both.last).toEqual([
      { type: "retryNoOlm", noticeId: 1 },
      { type: "ensureDummyQueued", replyId: 1 },
    ]);
  });

  it("S2 a reply over an existing session that was in flight is sent again", () => {
    const before = run([established(0), noticeIn(1)]);
    const after = run([resumed(2)], before.snapshot);
    expect(after.last).toEqual([{ type: "sendDummy", replyId: 2 }]);
  });

  it("S2 a notice not yet acknowledged is made sure of, with the same id", () => {
    const before = run([failed(0)]);
    expect(run([resumed(1)], before.snapshot).last).toEqual([{ type: "retryNoOlm", noticeId: 1 }]);
  });

  it("S2 in a settled state it changes nothing", () => {
    for (const events of [
      [],
      [established(0)],
      [failed(0), sent(1, 1)],
      [noticeIn(0), ...delivered(1, 1)],
      [noticeIn(0), queued(1, 1), replyFailed(2, 1)],
    ]) {
      const before = run(events).snapshot;
      expect(stepPeer(before, resumed(9)).kind).toBe("ignored");
    }
  });
});

describe("S3: ids wrap inside 32 bits, so no id is ever the last", () => {
  it("S3 the notice id after 2³²−1 is 1, and its ack is accepted", () => {
    const from: PeerSnapshot = {
      value: { olm: "established", reply: "idle" },
      context: { ...run([]).snapshot.context, noticeId: 2 ** 32 - 1 },
    };
    const r = run([failed(0)], from);
    expect(r.last).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
    expect(leaves(run([sent(1, 1)], r.snapshot).snapshot).olm).toBe("noticeDelivered");
  });

  it("S3 ids beyond 32 bits are malformed", () => {
    const before = run([failed(0)]).snapshot;
    expect(stepPeer(before, sent(1, 2 ** 32)).kind).toBe("rejected");
  });
});
