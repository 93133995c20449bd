// Regression tests: restorePeerSnapshot and stepPeer take snapshots from outside (a store, the
// client) and must neither throw on any JS value nor accept a state the machine cannot reach.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import {
  brokenInvariant,
  initialPeerSnapshot,
  type PeerSnapshot,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { MAX_PEER_ID } from "../../src/machine/timing.js";
import { HOUR, run } from "./peerHarness.js";

const boom = (): never => {
  throw new Error("boom");
};

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

/** A Proxy over `target` whose every trap throws. */
const throwingProxy = (target: object = {}): object =>
  new Proxy(target, {
    get: boom,
    has: boom,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
    getPrototypeOf: boom,
  });

const busy = run([
  { type: "ESTABLISH_FAILED", at: 1 },
  { type: "NOTICE_SEND_FAILED", at: 2, noticeId: 1 },
  { type: "NOTICE_RECEIVED", at: 3 },
  { type: "REPLY_FAILED", at: 4, replyId: 1 },
]).snapshot;
const persisted = JSON.parse(JSON.stringify(persistPeerSnapshot(busy))) as {
  v: 1;
  value: object;
  context: Record<string, unknown>;
};

const cyclic = (): object => {
  const o: Record<string, unknown> = { v: 1 };
  o.value = o;
  o.context = o;
  return o;
};

const throwingContextField = (): unknown => ({
  ...persisted,
  context: Object.defineProperty({ ...persisted.context }, "claimFailedAt", { get: boom }),
});

/** Values that make careless reading code throw; each wrapped at several depths below. */
const HOSTILE: readonly [string, () => unknown][] = [
  ["a revoked Proxy", revoked],
  ["a Proxy whose traps throw", () => throwingProxy()],
  ["an array Proxy whose traps throw", () => throwingProxy([])],
  ["an object with a throwing getter", () => Object.defineProperty({}, "v", { get: boom })],
  ["a cycle", cyclic],
  ["a BigInt", () => 1n],
  ["a Symbol", () => Symbol("s")],
  ["a function", () => () => 1],
  ["a frozen null-prototype object", () => Object.freeze(Object.create(null))],
];

/** Places a hostile value at the top, as value, as context, in a leaf and in a context field. */
const PLACES: readonly [string, (h: unknown) => unknown][] = [
  ["itself", (h) => h],
  ["as value", (h) => ({ ...persisted, value: h })],
  ["as context", (h) => ({ ...persisted, context: h })],
  ["as value.olm", (h) => ({ ...persisted, value: { olm: h, reply: "backingOff" } })],
  ["as a context field", (h) => ({ ...persisted, context: { ...persisted.context, noticeId: h } })],
  ["next to a throwing getter for another context field", throwingContextField],
];

const CASES = HOSTILE.flatMap(([what, make]) =>
  PLACES.map(([where, place]) => [`${what} ${where}`, () => place(make())] as const),
);

describe("restorePeerSnapshot never throws", () => {
  it.each(CASES)("%s → a typed rejection", (_, make) => {
    let result: ReturnType<typeof restorePeerSnapshot> | undefined;
    expect(() => {
      result = restorePeerSnapshot(make());
    }).not.toThrow();
    expect(result?.ok).toBe(false);
  });

  it.each([
    ["a revoked Proxy", revoked],
    ["a Proxy whose traps throw", () => throwingProxy()],
    ["a throwing getter for v", () => Object.defineProperty({}, "v", { get: boom })],
    ["a revoked Proxy as value", () => ({ ...persisted, value: revoked() })],
    ["a throwing getter in context", throwingContextField],
  ])("%s is refused as unreadable", (_, make) => {
    expect(restorePeerSnapshot(make())).toMatchObject({ ok: false, reason: "unreadable" });
  });

  it("a frozen, null-prototype or Proxy-wrapped copy of a good snapshot restores", () => {
    const nullProto = Object.assign(Object.create(null) as object, persisted);
    for (const input of [Object.freeze({ ...persisted }), nullProto, new Proxy(persisted, {})]) {
      expect(restorePeerSnapshot(input)).toEqual({ ok: true, value: busy });
    }
  });
});

describe("stepPeer never throws and checks the snapshot it is given", () => {
  const event = { type: "NOTICE_RECEIVED", at: 5 };

  it.each(CASES)("snapshot: %s → rejected as invalidSnapshot, snapshot as given", (_, make) => {
    const given = make();
    let result: ReturnType<typeof stepPeer> | undefined;
    expect(() => {
      result = stepPeer(given as PeerSnapshot, event);
    }).not.toThrow();
    expect(result?.kind).toBe("rejected");
    if (result?.kind !== "rejected") return;
    expect(result.rejection.reason).toBe("invalidSnapshot");
    expect(typeof result.rejection.detail).toBe("string");
    expect(result.snapshot).toBe(given);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "snapshot"],
    ["a persisted snapshot's JSON text", JSON.stringify(persisted)],
  ])("snapshot: %s → invalidSnapshot", (_, given) => {
    const result = stepPeer(given as unknown as PeerSnapshot, event);
    expect(result).toMatchObject({ kind: "rejected", rejection: { reason: "invalidSnapshot" } });
  });

  it.each(HOSTILE)("event: %s → a typed rejection, nothing changes", (_, make) => {
    let result: ReturnType<typeof stepPeer> | undefined;
    expect(() => {
      result = stepPeer(busy, make());
    }).not.toThrow();
    expect(result?.kind).toBe("rejected");
    expect(result?.snapshot).toBe(busy);
  });

  it("a snapshot wrapped in a harmless Proxy steps like the snapshot itself", () => {
    const wrapped = new Proxy(busy, {});
    const result = stepPeer(wrapped, { type: "NOTICE_RECEIVED", at: 4 + HOUR });
    expect(result).toEqual(stepPeer(busy, { type: "NOTICE_RECEIVED", at: 4 + HOUR }));
  });

  test.prop([
    fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }),
  ])("any value as snapshot or as event: no throw, a documented result", (value) => {
    const asSnapshot = stepPeer(value as PeerSnapshot, event);
    expect(["rejected", "applied", "ignored"]).toContain(asSnapshot.kind);
    const asEvent = stepPeer(initialPeerSnapshot, value);
    expect(["rejected", "applied", "ignored"]).toContain(asEvent.kind);
    expect(restorePeerSnapshot(value).ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// States the machine cannot reach

const fail = (at: number): PeerEvent => ({ type: "ESTABLISH_FAILED", at });
const session = (at: number): PeerEvent => ({ type: "SESSION_ESTABLISHED", at, origin: "inbound" });
const lose = (at: number): PeerEvent => ({ type: "SESSION_LOST", at });
const noticeIn = (at: number): PeerEvent => ({ type: "NOTICE_RECEIVED", at });
const dummyQueued = (at: number, replyId: number): PeerEvent => ({
  type: "DUMMY_QUEUED",
  at,
  replyId,
});
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

const base = (olm: unknown, reply: unknown, context: Partial<PeerSnapshot["context"]>) => ({
  v: 1,
  value: { olm, reply },
  context: { ...initialPeerSnapshot.context, ...context },
});
const pending = { unreachable: "noticePending" };
const newSession = { replying: "newSession" };
const existingSession = { replying: "existingSession" };
const newSessionQueued = { replying: "newSessionDummyQueued" };
const existingSessionQueued = { replying: "existingSessionDummyQueued" };
const UNREACHABLE: readonly [string, unknown][] = [
  ["noSession + idle with a reply id", base("noSession", "idle", { replyId: 3 })],
  [
    "noSession + idle having received a notice",
    base("noSession", "idle", { lastNoticeReceivedAt: 1 }),
  ],
  ["a notice id above MAX_PEER_ID", base("established", "idle", { noticeId: MAX_PEER_ID + 1 })],
  [
    "a reply id above MAX_PEER_ID",
    base("established", "idle", { replyId: 2 ** 53 - 1, lastNoticeReceivedAt: 1 }),
  ],
  [
    "a reply in flight that started before the last reply (lastReplyAt > lastNoticeReceivedAt)",
    base("established", existingSession, { replyId: 2, lastNoticeReceivedAt: 10, lastReplyAt: 20 }),
  ],
  [
    "a claim retry started before its failure (claimFailedAt > lastNoticeReceivedAt) with no episode (only a share-time failure comes later, and it starts one)",
    base("noSession", newSession, {
      replyId: 2,
      lastNoticeReceivedAt: 10,
      claimFailures: 1,
      claimFailedAt: 20,
    }),
  ],
  [
    "a claim backoff with a session (a failed share-time claim starts an episode; a session clears it)",
    base("established", "idle", { noticeId: 1, claimFailures: 1, claimFailedAt: 5 }),
  ],
  [
    "the same with a reply in flight",
    base("established", existingSession, {
      noticeId: 1,
      replyId: 1,
      lastNoticeReceivedAt: 10,
      claimFailures: 1,
      claimFailedAt: 20,
    }),
  ],
  [
    "a notice waiting for a share-time backoff with no episode",
    base("noSession", "backingOff", {
      lastNoticeReceivedAt: 1,
      claimFailures: 1,
      claimFailedAt: 0,
    }),
  ],
  [
    "a notice waiting for a share-time backoff with no notice recorded",
    base(pending, "backingOff", {
      noticeId: 1,
      unreachableSince: 0,
      claimFailures: 1,
      claimFailedAt: 20,
    }),
  ],
  [
    "a notice waiting for a backoff of one failure that came after it (that failure would be its second)",
    base(pending, "backingOff", {
      noticeId: 1,
      unreachableSince: 0,
      lastNoticeReceivedAt: 10,
      claimFailures: 1,
      claimFailedAt: 20,
    }),
  ],
  [
    "a reply started an hour after the largest finite time",
    base(pending, newSession, {
      noticeId: 1,
      unreachableSince: 0,
      replyId: 2,
      lastNoticeReceivedAt: Number.MAX_VALUE,
      lastReplyAt: Number.MAX_VALUE,
    }),
  ],
  [
    "backing off with a session",
    base("established", "backingOff", {
      replyId: 1,
      lastNoticeReceivedAt: 1,
      claimFailures: 1,
      claimFailedAt: 1,
    }),
  ],
  [
    "a new-session m.dummy queued with claim failures (queueing it cleared them)",
    base("established", newSessionQueued, {
      replyId: 2,
      lastNoticeReceivedAt: 20,
      claimFailures: 1,
      claimFailedAt: 5,
    }),
  ],
  [
    "the same with the session lost since",
    base("noSession", newSessionQueued, {
      replyId: 2,
      lastNoticeReceivedAt: 20,
      claimFailures: 1,
      claimFailedAt: 5,
    }),
  ],
  [
    "an existing-session reply with claim failures (no idle state keeps them)",
    base("established", existingSession, {
      replyId: 2,
      lastNoticeReceivedAt: 20,
      claimFailures: 1,
      claimFailedAt: 5,
    }),
  ],
  [
    "a queued m.dummy whose reply started before the last delivery",
    base("established", existingSessionQueued, {
      replyId: 2,
      lastNoticeReceivedAt: 10,
      lastReplyAt: 20,
    }),
  ],
  [
    "a queued m.dummy with no reply id",
    base("established", existingSessionQueued, { lastNoticeReceivedAt: 1 }),
  ],
  [
    "claim failures while idle after a retried claim's m.dummy was lost (queueing it cleared them)",
    base("established", "idle", {
      replyId: 2,
      lastNoticeReceivedAt: 15_001,
      lastReplyAt: 15_003,
      claimFailures: 1,
      claimFailedAt: 1,
    }),
  ],
  [
    "the same with no hour (as if the loss started none)",
    base("established", "idle", {
      replyId: 2,
      lastNoticeReceivedAt: 15_001,
      claimFailures: 1,
      claimFailedAt: 1,
    }),
  ],
  [
    "claim failures while idle with no session (a claim that made a session cleared them)",
    base("noSession", "idle", {
      replyId: 1,
      lastNoticeReceivedAt: 5,
      claimFailures: 1,
      claimFailedAt: 2,
    }),
  ],
  [
    "claim failures while idle after a delivery (delivery clears the backoff)",
    base("established", "idle", {
      noticeId: 1,
      replyId: 2,
      lastNoticeReceivedAt: 10,
      lastReplyAt: 20,
      claimFailures: 1,
      claimFailedAt: 5,
    }),
  ],
];

/**
 * States that only a lost session (SESSION_LOST: established → noSession) leads to, with a run
 * that reaches each: restore must accept them, and the run without the loss ends elsewhere.
 */
const REACHED_THROUGH_A_LOST_SESSION: readonly [string, readonly PeerEvent[]][] = [
  ["noSession with a notice id", [fail(0), session(1), lose(2)]],
  [
    "a reply time while noSession",
    [session(0), noticeIn(1), dummyQueued(2, 1), replied(3, 1), lose(4)],
  ],
  [
    "a claim backing off after a reply (noSession, no episode ever)",
    [session(0), noticeIn(1), dummyQueued(2, 1), replied(3, 1), lose(4)].concat([
      noticeIn(3 + HOUR),
      replyFailed(4 + HOUR, 2),
    ]),
  ],
  ["an existing-session reply with no session", [session(0), noticeIn(1), lose(2)]],
  [
    "an existing-session m.dummy queued with no session",
    [session(0), noticeIn(1), dummyQueued(2, 1), lose(3)],
  ],
  ["a new-session m.dummy queued with no session", [noticeIn(0), dummyQueued(1, 1), lose(2)]],
  [
    "a new-session reply with a session and no episode ever (n0) after a reply",
    [session(0), noticeIn(1), dummyQueued(2, 1), replied(3, 1), lose(4)].concat([
      noticeIn(3 + HOUR),
      session(5 + HOUR),
    ]),
  ],
];

const claimFailed = (at: number): PeerEvent => ({ type: "CLAIM_FAILED", at });
const R5_EVENTS: ReadonlySet<string> = new Set([
  "CLAIM_REQUESTED",
  "CLAIM_FAILED",
  "DEVICE_CHANGED",
]);

/**
 * States that only share-time claims (R5: CLAIM_FAILED, DEVICE_CHANGED) lead to, with a run that
 * reaches each: restore must accept them, and the run without those events ends elsewhere.
 */
const REACHED_THROUGH_SHARE_CLAIMS: readonly [string, readonly PeerEvent[]][] = [
  [
    "a claim retry whose share failed after it started (claimFailedAt > lastNoticeReceivedAt)",
    [fail(0), noticeIn(5), { type: "RESUMED", at: 6 }, noticeIn(10), claimFailed(20)],
  ],
  ["a notice waiting for a share-time backoff, no reply ever", [claimFailed(0), noticeIn(1)]],
  [
    "idle with a notice recorded and no reply ever (the backoff ended by new keys)",
    [claimFailed(0), noticeIn(1), { type: "DEVICE_CHANGED", at: 2 }],
  ],
  [
    "the same ended by a session, which also ends the episode",
    [claimFailed(0), noticeIn(1), session(2)],
  ],
  [
    "claim failures while an existing-session m.dummy is queued",
    [session(0), noticeIn(1), dummyQueued(2, 1), claimFailed(3)],
  ],
  [
    "claim failures after a new-session m.dummy was queued",
    [noticeIn(0), dummyQueued(1, 1), claimFailed(2), claimFailed(3)],
  ],
  [
    "claim failures while idle with a reply behind (they outlive a lost m.dummy)",
    [session(0), noticeIn(1), dummyQueued(2, 1), claimFailed(3), replyFailed(4, 1)],
  ],
];

describe("restore accepts the states share-time claims lead to", () => {
  it.each(REACHED_THROUGH_SHARE_CLAIMS)("%s", (_, events) => {
    const reached = run(events).snapshot;
    const json = JSON.parse(JSON.stringify(persistPeerSnapshot(reached))) as unknown;
    expect(restorePeerSnapshot(json)).toStrictEqual({ ok: true, value: reached });
    expect(brokenInvariant(reached)).toBeUndefined();
    const without = run(events.filter((e) => !R5_EVENTS.has(e.type))).snapshot;
    expect(without).not.toStrictEqual(reached);
  });
});

describe("restore accepts the states a lost session leads to", () => {
  it.each(REACHED_THROUGH_A_LOST_SESSION)("%s", (_, events) => {
    const reached = run(events).snapshot;
    const json = JSON.parse(JSON.stringify(persistPeerSnapshot(reached))) as unknown;
    expect(restorePeerSnapshot(json)).toStrictEqual({ ok: true, value: reached });
    expect(brokenInvariant(reached)).toBeUndefined();
    // The loss is what leads there.
    const without = run(events.filter((e) => e.type !== "SESSION_LOST")).snapshot;
    expect(without).not.toStrictEqual(reached);
  });
});

describe("restore and stepPeer refuse states the machine cannot reach", () => {
  it.each(UNREACHABLE)("restore refuses %s", (_, input) => {
    const result = restorePeerSnapshot(input);
    expect(result.ok).toBe(false);
  });

  it.each(UNREACHABLE)("stepPeer refuses a snapshot with %s", (_, input) => {
    const { value, context } = input as PeerSnapshot;
    const snapshot = { value, context };
    const result = stepPeer(snapshot, { type: "RESUMED", at: 0 });
    expect(result).toMatchObject({ kind: "rejected", rejection: { reason: "invalidSnapshot" } });
    expect(result.snapshot).toBe(snapshot);
    expect(brokenInvariant(snapshot)).toBeDefined();
  });
});
