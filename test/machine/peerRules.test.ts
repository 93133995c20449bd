import { describe, expect, it } from "vitest";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { type PeerSnapshot, peerLeaves } from "../../src/machine/peerSnapshot.js";
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
const replied = (at: number, replyId: number): PeerEvent => ({
  type: "REPLY_SUCCEEDED",
  at,
  replyId,
});
const replyFailed = (at: number, replyId: number): PeerEvent => ({
  type: "REPLY_FAILED",
  at,
  replyId,
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
    const r = run([failed(0), sent(1, 1), noticeIn(2), replied(3, 1), failed(4)]);
    expect(count(r.commands, "reportPeerReachable")).toBe(1);
    expect(count(r.commands, "sendNoOlm")).toBe(2);
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
    const done = run([replied(6, 1)], r.snapshot);
    expect(done.last).toEqual([{ type: "reportRepliedToNotice", newSession: true }]);
    expect(leaves(done.snapshot)).toEqual({ olm: "established", reply: "idle" });
  });

  it("R1 with a session: send m.dummy over it, no key claim", () => {
    const r = run([established(1, "inbound"), noticeIn(5)]);
    expect(r.last).toEqual([{ type: "sendDummy", replyId: 1 }]);
    const done = run([replied(6, 1)], r.snapshot);
    expect(done.last).toEqual([{ type: "reportRepliedToNotice", newSession: false }]);
  });

  it("R1 notices arriving while a reply is in flight are answered by that reply", () => {
    const r = run([noticeIn(1), noticeIn(2), noticeIn(3)]);
    expect(r.commands).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
  });

  it("R1 a stale reply answer is ignored", () => {
    const replying = run([noticeIn(1)]).snapshot;
    expect(stepPeer(replying, replied(2, 7)).kind).toBe("ignored");
    expect(stepPeer(replying, replyFailed(2, 0)).kind).toBe("ignored");
  });
});

describe("R2: at most one new session per peer per hour because of notices", () => {
  it("R2 a second notice inside the hour produces no command", () => {
    const r = run([noticeIn(0), replied(1000, 1), noticeIn(1000 + HOUR - 1)]);
    expect(r.last).toEqual([]);
    expect(count(r.commands, "claimKeyAndSendDummy")).toBe(1);
  });

  it("R2 one hour after the reply a notice may create a new session again", () => {
    const r = run([noticeIn(0), replied(1000, 1), failed(2000), noticeIn(1000 + HOUR)]);
    expect(r.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
  });

  it("R2 100 notices within an hour: one new session", () => {
    const events: PeerEvent[] = [noticeIn(0), replied(10, 1)];
    for (let i = 1; i <= 99; i++) events.push(noticeIn(10 + i * 30_000));
    const r = run(events);
    expect(count(r.commands, "claimKeyAndSendDummy")).toBe(1);
    expect(count(r.commands, "sendDummy")).toBe(0);
  });

  it("R2 a clock that goes backwards restarts the wait instead of shortening it", () => {
    const r = run([noticeIn(10 * HOUR), replied(10 * HOUR, 1), failed(10 * HOUR + 1)]);
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
    const r = run([noticeIn(0), replyFailed(1, 1), noticeIn(15_001), replied(15_002, 2)]);
    expect(r.snapshot.context.claimFailures).toBe(0);
    expect(leaves(r.snapshot).reply).toBe("idle");
  });

  it("R3 a failed dummy over an existing session does not back off", () => {
    const r = run([established(0), noticeIn(1), replyFailed(2, 1)]);
    expect(leaves(r.snapshot).reply).toBe("idle");
    expect(r.snapshot.context.claimFailures).toBe(0);
  });
});

describe("R4: the time of the last m.no_olm received is kept", () => {
  it("R4 every valid notice updates it, whether or not it is answered", () => {
    const r = run([noticeIn(100), replied(101, 1), noticeIn(200), noticeIn(300)]);
    expect(r.snapshot.context.lastNoticeReceivedAt).toBe(300);
  });

  it("R4 an earlier reading replaces it: a clock that ran ahead does not stick", () => {
    const r = run([noticeIn(500), noticeIn(400)]);
    expect(r.snapshot.context.lastNoticeReceivedAt).toBe(400);
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
  const resumed = (at: number): PeerEvent => ({ type: "RESUMED", at });

  it("S2 a reply over a new session that was in flight starts again, with a fresh id", () => {
    const before = run([noticeIn(0)]);
    expect(before.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 1 }]);
    const after = run([resumed(5)], before.snapshot);
    expect(after.last).toEqual([{ type: "claimKeyAndSendDummy", replyId: 2 }]);
    // The old attempt's late outcome is stale; the new one completes the reply.
    expect(run([replied(6, 1)], after.snapshot).last).toEqual([]);
    const done = run([replied(6, 2)], after.snapshot);
    expect(leaves(done.snapshot)).toEqual({ olm: "established", reply: "idle" });
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
      [noticeIn(0), replied(1, 1)],
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
