// Example tests of the reference model on its own, worked out by hand from the rules, so that a
// broken model cannot silently agree with a broken machine in the model-based properties.
import { describe, expect, it } from "vitest";
import { modelBackoffMs, ONE_HOUR_MS, PeerModel } from "../../src/testing/model/referenceModel.js";

const H = ONE_HOUR_MS;

describe("reference model: olm side", () => {
  it("the first failure starts episode 1 with one notice; more failures do nothing", () => {
    const m = new PeerModel();
    expect(m.apply({ type: "ESTABLISH_FAILED", at: 500 })).toEqual({
      kind: "applied",
      commands: [{ type: "sendNoOlm", noticeId: 1 }],
    });
    expect(m.state().leaves.olm).toBe("noticePending");
    expect(m.state().context.unreachableSince).toBe(500);
    expect(m.apply({ type: "ESTABLISH_FAILED", at: 600 })).toEqual({
      kind: "ignored",
      commands: [],
    });
    expect(m.state().context.unreachableSince).toBe(500);
  });

  it("acks: a failed send retries the same id, the right ack delivers, stale acks are ignored", () => {
    const m = new PeerModel();
    m.apply({ type: "ESTABLISH_FAILED", at: 0 });
    expect(m.apply({ type: "NOTICE_SENT", at: 1, noticeId: 2 }).kind).toBe("ignored");
    expect(m.apply({ type: "NOTICE_SEND_FAILED", at: 1, noticeId: 0 }).kind).toBe("ignored");
    expect(m.apply({ type: "NOTICE_SEND_FAILED", at: 2, noticeId: 1 })).toEqual({
      kind: "applied",
      commands: [{ type: "retryNoOlm", noticeId: 1 }],
    });
    expect(m.apply({ type: "NOTICE_SENT", at: 3, noticeId: 1 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().leaves.olm).toBe("noticeDelivered");
    expect(m.apply({ type: "NOTICE_SENT", at: 4, noticeId: 1 }).kind).toBe("ignored");
    expect(m.apply({ type: "NOTICE_SEND_FAILED", at: 4, noticeId: 1 }).kind).toBe("ignored");
  });

  it("a session ends the episode: withdraw only while pending, then report reachable", () => {
    const m = new PeerModel();
    m.apply({ type: "ESTABLISH_FAILED", at: 70 });
    expect(m.apply({ type: "SESSION_ESTABLISHED", at: 80, origin: "inbound" })).toEqual({
      kind: "applied",
      commands: [
        { type: "withdrawNoOlm", noticeId: 1 },
        { type: "reportPeerReachable", unreachableSince: 70 },
      ],
    });
    expect(m.state().leaves.olm).toBe("established");
    expect(m.state().context.unreachableSince).toBeNull();
    expect(m.apply({ type: "SESSION_ESTABLISHED", at: 90, origin: "existing" }).kind).toBe(
      "ignored",
    );

    m.apply({ type: "ESTABLISH_FAILED", at: 100 });
    m.apply({ type: "NOTICE_SENT", at: 101, noticeId: 2 });
    expect(m.apply({ type: "SESSION_ESTABLISHED", at: 110, origin: "outbound" }).commands).toEqual([
      { type: "reportPeerReachable", unreachableSince: 100 },
    ]);
  });

  it("SESSION_LOST: established → noSession, nothing sent; ignored everywhere else", () => {
    const m = new PeerModel();
    expect(m.apply({ type: "SESSION_LOST", at: 0 }).kind).toBe("ignored");
    m.apply({ type: "SESSION_ESTABLISHED", at: 1, origin: "inbound" });
    expect(m.apply({ type: "SESSION_LOST", at: 2 })).toEqual({ kind: "applied", commands: [] });
    expect(m.state().leaves.olm).toBe("noSession");
    expect(m.apply({ type: "SESSION_LOST", at: 3 }).kind).toBe("ignored");
    // Not a failure: the next failure still starts an episode with one notice ...
    expect(m.apply({ type: "ESTABLISH_FAILED", at: 4 }).commands).toEqual([
      { type: "sendNoOlm", noticeId: 1 },
    ]);
    // ... and in an episode there is no session to lose.
    expect(m.apply({ type: "SESSION_LOST", at: 5 }).kind).toBe("ignored");
    m.apply({ type: "NOTICE_SENT", at: 6, noticeId: 1 });
    expect(m.apply({ type: "SESSION_LOST", at: 7 }).kind).toBe("ignored");
    expect(m.state().leaves.olm).toBe("noticeDelivered");
  });

  it("after SESSION_LOST a notice is answered over a new session", () => {
    const m = new PeerModel();
    m.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "outbound" });
    m.apply({ type: "SESSION_LOST", at: 1 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 2 }).commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 1 },
    ]);
  });

  it("a fresh peer's first session is applied with no command", () => {
    const m = new PeerModel();
    expect(m.apply({ type: "SESSION_ESTABLISHED", at: 1, origin: "outbound" })).toEqual({
      kind: "applied",
      commands: [],
    });
  });

  it("malformed events are rejected and change nothing", () => {
    const m = new PeerModel();
    const before = m.state();
    for (const bad of [
      null,
      42,
      [],
      { type: "NOPE", at: 1 },
      { type: "ESTABLISH_FAILED" },
      { type: "ESTABLISH_FAILED", at: Number.NaN },
      { type: "ESTABLISH_FAILED", at: Number.POSITIVE_INFINITY },
      { type: "SESSION_ESTABLISHED", at: 1, origin: "sideways" },
      { type: "SESSION_ESTABLISHED", at: 1 },
      { type: "NOTICE_SENT", at: 1, noticeId: -1 },
      { type: "NOTICE_SENT", at: 1, noticeId: 1.5 },
      { type: "REPLY_FAILED", at: 1, replyId: "1" },
      { type: "DUMMY_QUEUED", at: 1 },
      { type: "DUMMY_QUEUED", at: 1, replyId: 2 ** 32 },
      { type: "SESSION_LOST" },
      { type: "SESSION_LOST", at: "1" },
      { type: "session_lost", at: 1 },
      { type: "CLAIM_REQUESTED" },
      { type: "CLAIM_FAILED", at: Number.NaN },
      { type: "DEVICE_CHANGED", at: null },
      { type: "claim_failed", at: 1 },
    ]) {
      expect(m.apply(bad)).toEqual({ kind: "rejected", commands: [] });
    }
    expect(m.state()).toEqual(before);
  });
});

describe("reference model: reply side", () => {
  it("replies over a new session without one, over the existing one with one", () => {
    const a = new PeerModel();
    expect(a.apply({ type: "NOTICE_RECEIVED", at: 5 }).commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 1 },
    ]);
    expect(a.state().leaves.reply).toBe("newSession");

    const b = new PeerModel();
    b.apply({ type: "SESSION_ESTABLISHED", at: 1, origin: "outbound" });
    expect(b.apply({ type: "NOTICE_RECEIVED", at: 5 }).commands).toEqual([
      { type: "sendDummy", replyId: 1 },
    ]);
    expect(b.apply({ type: "DUMMY_QUEUED", at: 6, replyId: 1 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(b.state().leaves.reply).toBe("existingSessionDummyQueued");
    expect(b.state().context.lastReplyAt).toBeNull();
    expect(b.apply({ type: "REPLY_SUCCEEDED", at: 7, replyId: 1 }).commands).toEqual([
      { type: "reportRepliedToNotice", newSession: false },
    ]);
    expect(b.state().context.lastReplyAt).toBe(7);
  });

  it("a reply is delivered only after its m.dummy is queued", () => {
    const m = new PeerModel();
    m.apply({ type: "NOTICE_RECEIVED", at: 5 });
    expect(m.apply({ type: "REPLY_SUCCEEDED", at: 6, replyId: 1 }).kind).toBe("ignored");
    expect(m.state().leaves.reply).toBe("newSession");
    m.apply({ type: "DUMMY_QUEUED", at: 7, replyId: 1 });
    expect(m.apply({ type: "DUMMY_QUEUED", at: 8, replyId: 1 }).kind).toBe("ignored");
    expect(m.apply({ type: "REPLY_SUCCEEDED", at: 9, replyId: 2 }).kind).toBe("ignored");
    expect(m.apply({ type: "REPLY_SUCCEEDED", at: 9, replyId: 1 }).commands).toEqual([
      { type: "reportRepliedToNotice", newSession: true },
    ]);
    expect(m.state().leaves).toEqual({ olm: "established", reply: "idle" });
    expect(m.state().context.lastReplyAt).toBe(9);
  });

  it("a new-session reply ends the episode when its m.dummy is queued, not when delivered", () => {
    const m = new PeerModel();
    m.apply({ type: "ESTABLISH_FAILED", at: 10 });
    m.apply({ type: "NOTICE_RECEIVED", at: 20 });
    expect(m.apply({ type: "DUMMY_QUEUED", at: 30, replyId: 1 })).toEqual({
      kind: "applied",
      commands: [
        { type: "withdrawNoOlm", noticeId: 1 },
        { type: "reportPeerReachable", unreachableSince: 10 },
      ],
    });
    expect(m.state().leaves).toEqual({ olm: "established", reply: "newSessionDummyQueued" });
    expect(m.apply({ type: "REPLY_SUCCEEDED", at: 40, replyId: 1 }).commands).toEqual([
      { type: "reportRepliedToNotice", newSession: true },
    ]);
  });

  it("an existing-session m.dummy queued in an episode leaves the episode alone", () => {
    const m = new PeerModel();
    m.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "outbound" });
    m.apply({ type: "NOTICE_RECEIVED", at: 1 });
    m.apply({ type: "ESTABLISH_FAILED", at: 2 });
    expect(m.apply({ type: "DUMMY_QUEUED", at: 3, replyId: 1 }).commands).toEqual([]);
    expect(m.state().leaves).toEqual({
      olm: "noticePending",
      reply: "existingSessionDummyQueued",
    });
  });

  it("a lost new-session m.dummy: idle, no backoff, and the hour starts at the loss", () => {
    const m = new PeerModel();
    m.apply({ type: "NOTICE_RECEIVED", at: 0 });
    m.apply({ type: "DUMMY_QUEUED", at: 1, replyId: 1 });
    expect(m.apply({ type: "REPLY_FAILED", at: 2, replyId: 1 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().leaves).toEqual({ olm: "established", reply: "idle" });
    expect(m.state().context.lastReplyAt).toBe(2);
    expect(m.state().context.claimFailures).toBe(0);
    // A session was made for the reply: none again within the hour, even with that one gone.
    m.apply({ type: "SESSION_LOST", at: 3 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 2 + H - 1 }).commands).toEqual([]);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 2 + H }).commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
  });

  it("a lost existing-session m.dummy: idle, no backoff, no hour, the next notice answered at once", () => {
    const m = new PeerModel();
    m.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "inbound" });
    m.apply({ type: "NOTICE_RECEIVED", at: 0 });
    m.apply({ type: "DUMMY_QUEUED", at: 1, replyId: 1 });
    expect(m.apply({ type: "REPLY_FAILED", at: 2, replyId: 1 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().leaves).toEqual({ olm: "established", reply: "idle" });
    expect(m.state().context.lastReplyAt).toBeNull();
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 3 }).commands).toEqual([
      { type: "sendDummy", replyId: 2 },
    ]);
  });

  it("a claim that makes a session clears the backoff when its m.dummy is queued", () => {
    const m = new PeerModel();
    m.apply({ type: "NOTICE_RECEIVED", at: 0 });
    m.apply({ type: "REPLY_FAILED", at: 1, replyId: 1 });
    m.apply({ type: "NOTICE_RECEIVED", at: 15_001 });
    expect(m.state().context.claimFailures).toBe(1);
    m.apply({ type: "DUMMY_QUEUED", at: 15_002, replyId: 2 });
    expect(m.state().context).toMatchObject({ claimFailures: 0, claimFailedAt: null });
    m.apply({ type: "REPLY_FAILED", at: 15_003, replyId: 2 });
    expect(m.state().context).toMatchObject({ claimFailures: 0, claimFailedAt: null });
  });

  it("RESUMED: a queued m.dummy is made sure of under its id; an unmade one restarts", () => {
    const m = new PeerModel();
    m.apply({ type: "ESTABLISH_FAILED", at: 0 });
    m.apply({ type: "NOTICE_RECEIVED", at: 1 });
    expect(m.apply({ type: "RESUMED", at: 2 }).commands).toEqual([
      { type: "retryNoOlm", noticeId: 1 },
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
    m.apply({ type: "DUMMY_QUEUED", at: 3, replyId: 2 });
    const before = m.state();
    expect(m.apply({ type: "RESUMED", at: 4 })).toEqual({
      kind: "applied",
      commands: [{ type: "ensureDummyQueued", replyId: 2 }],
    });
    expect(m.state()).toEqual(before);
  });

  it("notices while replying are only recorded; stale reply ids are ignored", () => {
    const m = new PeerModel();
    m.apply({ type: "NOTICE_RECEIVED", at: 100 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 200 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().context.lastNoticeReceivedAt).toBe(200);
    // An earlier reading is kept too: the latest notice's reading, not the largest.
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 150 }).kind).toBe("applied");
    expect(m.state().context.lastNoticeReceivedAt).toBe(150);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 150 }).kind).toBe("ignored");
    expect(m.apply({ type: "REPLY_SUCCEEDED", at: 300, replyId: 2 }).kind).toBe("ignored");
    expect(m.apply({ type: "REPLY_FAILED", at: 300, replyId: 0 }).kind).toBe("ignored");
  });

  it("one reply per hour from delivery, the boundary inclusive", () => {
    const m = new PeerModel();
    m.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "outbound" });
    m.apply({ type: "NOTICE_RECEIVED", at: 1000 });
    m.apply({ type: "DUMMY_QUEUED", at: 1500, replyId: 1 });
    m.apply({ type: "REPLY_SUCCEEDED", at: 2000, replyId: 1 });
    // The hour runs from delivery (2000), not from queueing (1500).
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 1500 + H }).commands).toEqual([]);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 2000 + H - 1 }).commands).toEqual([]);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 2000 + H }).commands).toEqual([
      { type: "sendDummy", replyId: 2 },
    ]);
  });

  it("the backoff ladder is 15, 30, 60, 120, 240, 480, 900, 900 s and stops counting at 8", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(modelBackoffMs)).toEqual([
      15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000,
    ]);
    const m = new PeerModel();
    let t = 0;
    m.apply({ type: "NOTICE_RECEIVED", at: t });
    const expectedWaits = [15, 30, 60, 120, 240, 480, 900, 900, 900, 900].map((s) => s * 1000);
    for (const [i, wait] of expectedWaits.entries()) {
      const replyId = i + 1;
      t += 7;
      expect(m.apply({ type: "REPLY_FAILED", at: t, replyId }).commands).toEqual([]);
      expect(m.state().leaves.reply).toBe("backingOff");
      expect(m.state().context.claimFailures).toBe(Math.min(i + 1, 8));
      expect(m.state().context.claimFailedAt).toBe(t);
      expect(m.apply({ type: "NOTICE_RECEIVED", at: t + wait - 1 }).commands).toEqual([]);
      expect(m.state().leaves.reply).toBe("backingOff");
      t += wait;
      expect(m.apply({ type: "NOTICE_RECEIVED", at: t }).commands).toEqual([
        { type: "claimKeyAndSendDummy", replyId: replyId + 1 },
      ]);
      expect(m.state().leaves.reply).toBe("newSession");
    }
  });

  it("a backwards clock re-anchors the hour wait: it restarts, never shortens", () => {
    const m = new PeerModel();
    m.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "outbound" });
    m.apply({ type: "NOTICE_RECEIVED", at: 10 * H });
    m.apply({ type: "DUMMY_QUEUED", at: 10 * H, replyId: 1 });
    m.apply({ type: "REPLY_SUCCEEDED", at: 10 * H, replyId: 1 });
    // The clock jumps back two hours: the wait is not over (reading before the anchor) ...
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 8 * H }).commands).toEqual([]);
    // ... and the anchor moved back to that reading.
    expect(m.state().context.lastReplyAt).toBe(8 * H);
    expect(m.state().context.lastNoticeReceivedAt).toBe(8 * H);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 9 * H - 1 }).commands).toEqual([]);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 9 * H }).commands).toEqual([
      { type: "sendDummy", replyId: 2 },
    ]);
  });

  it("a backwards clock re-anchors the claim backoff, deciding with the old anchor first", () => {
    const m = new PeerModel();
    m.apply({ type: "NOTICE_RECEIVED", at: 100_000 });
    m.apply({ type: "REPLY_FAILED", at: 100_000, replyId: 1 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 50_000 }).commands).toEqual([]);
    expect(m.state().context.claimFailedAt).toBe(50_000);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 64_999 }).commands).toEqual([]);
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 65_000 }).commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 2 },
    ]);
    // Entering the claim from backoff keeps the failure count for the next rung.
    expect(m.state().context.claimFailures).toBe(1);
  });

  it("failed replies: existing → idle; new with a session → idle; a session clears backoff", () => {
    const a = new PeerModel();
    a.apply({ type: "SESSION_ESTABLISHED", at: 0, origin: "outbound" });
    a.apply({ type: "NOTICE_RECEIVED", at: 1 });
    expect(a.apply({ type: "REPLY_FAILED", at: 2, replyId: 1 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(a.state().leaves.reply).toBe("idle");
    expect(a.state().context.claimFailures).toBe(0);

    const b = new PeerModel();
    b.apply({ type: "NOTICE_RECEIVED", at: 1 });
    b.apply({ type: "SESSION_ESTABLISHED", at: 2, origin: "inbound" });
    b.apply({ type: "REPLY_FAILED", at: 3, replyId: 1 });
    expect(b.state().leaves).toEqual({ olm: "established", reply: "idle" });

    const c = new PeerModel();
    c.apply({ type: "NOTICE_RECEIVED", at: 1 });
    c.apply({ type: "REPLY_FAILED", at: 2, replyId: 1 });
    expect(c.apply({ type: "SESSION_ESTABLISHED", at: 3, origin: "existing" }).commands).toEqual(
      [],
    );
    expect(c.state().leaves.reply).toBe("idle");
    expect(c.state().context.claimFailures).toBe(0);
    expect(c.state().context.claimFailedAt).toBeNull();
  });
});

describe("reference model: share-time claims (R5)", () => {
  it("a failed share claim notifies like any failure and backs off 15 s; a share inside is skipped, one at the end claims", () => {
    const m = new PeerModel();
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 0 })).toEqual({
      kind: "applied",
      commands: [{ type: "claimForShare" }],
    });
    expect(m.state().context.claimFailures).toBe(0);
    expect(m.apply({ type: "CLAIM_FAILED", at: 100 })).toEqual({
      kind: "applied",
      commands: [{ type: "sendNoOlm", noticeId: 1 }],
    });
    expect(m.state().leaves).toEqual({ olm: "noticePending", reply: "idle" });
    expect(m.state().context).toMatchObject({
      unreachableSince: 100,
      claimFailures: 1,
      claimFailedAt: 100,
    });
    const before = m.state();
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 15_099 })).toEqual({
      kind: "applied",
      commands: [{ type: "skipClaim", until: 15_100 }],
    });
    expect(m.state()).toEqual(before);
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 15_100 }).commands).toEqual([
      { type: "claimForShare" },
    ]);
    // Inside the episode a second failure only counts: 30 s now, and no notice.
    expect(m.apply({ type: "CLAIM_FAILED", at: 15_200 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().context).toMatchObject({ claimFailures: 2, claimFailedAt: 15_200 });
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 45_199 }).commands).toEqual([
      { type: "skipClaim", until: 45_200 },
    ]);
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 45_200 }).commands).toEqual([
      { type: "claimForShare" },
    ]);
  });

  it("a skipped share on a clock gone back waits from that reading", () => {
    const m = new PeerModel();
    m.apply({ type: "CLAIM_FAILED", at: 100_000 });
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 40_000 }).commands).toEqual([
      { type: "skipClaim", until: 55_000 },
    ]);
    expect(m.state().context.claimFailedAt).toBe(40_000);
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 55_000 }).commands).toEqual([
      { type: "claimForShare" },
    ]);
  });

  it("a notice inside a share backoff waits in backingOff; the next one after it claims", () => {
    const m = new PeerModel();
    m.apply({ type: "CLAIM_FAILED", at: 0 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 1_000 })).toEqual({
      kind: "applied",
      commands: [],
    });
    expect(m.state().leaves).toEqual({ olm: "noticePending", reply: "backingOff" });
    expect(m.state().context).toMatchObject({ replyId: 0, lastNoticeReceivedAt: 1_000 });
    expect(m.apply({ type: "NOTICE_RECEIVED", at: 15_000 }).commands).toEqual([
      { type: "claimKeyAndSendDummy", replyId: 1 },
    ]);
    // The reply's claim fails too: the same backoff, one step further (30 s).
    m.apply({ type: "REPLY_FAILED", at: 15_001, replyId: 1 });
    expect(m.state().context).toMatchObject({ claimFailures: 2, claimFailedAt: 15_001 });
    expect(m.apply({ type: "CLAIM_REQUESTED", at: 45_000 }).commands).toEqual([
      { type: "skipClaim", until: 45_001 },
    ]);
  });

  it("new keys or a session of any origin end the backoff, backingOff back to idle", () => {
    for (const clear of [
      { type: "DEVICE_CHANGED", at: 2 },
      { type: "SESSION_ESTABLISHED", at: 2, origin: "existing" },
    ]) {
      const m = new PeerModel();
      m.apply({ type: "CLAIM_FAILED", at: 0 });
      m.apply({ type: "NOTICE_RECEIVED", at: 1 });
      expect(m.apply(clear).kind).toBe("applied");
      expect(m.state().leaves.reply).toBe("idle");
      expect(m.state().context).toMatchObject({ claimFailures: 0, claimFailedAt: null });
      expect(m.apply({ type: "CLAIM_REQUESTED", at: 3 }).commands).toEqual([
        { type: "claimForShare" },
      ]);
    }
    // With nothing to clear, DEVICE_CHANGED changes nothing.
    expect(new PeerModel().apply({ type: "DEVICE_CHANGED", at: 0 }).kind).toBe("ignored");
  });
});
