// Model-based property tests: the XState peer machine (driven only through stepPeer and the
// snapshot API) against the independent reference model in referenceModel.ts.
//
// Runner choice: a hand-rolled sequence runner over `fc.array` of {clock move, action} steps
// (see modelHarness.ts) instead of `fc.commands` + `fc.modelRun`, because most properties
// judge a whole run (counts, spacing on an accumulated clock, two runs compared) rather than
// one command at a time. Failures report fast-check's seed and path plus the resolved event
// sequence with the machine's answer to each event.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { PeerCommand } from "../../src/machine/peerCommands.js";
import {
  brokenInvariant,
  initialPeerSnapshot,
  type PeerSnapshot,
  peerLeaves,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { reachableCandidateArb } from "../../src/testing/arbitraries/snapshotArbitraries.js";
import {
  drive,
  eventRecords,
  eventType,
  roundTrip,
  type StepRecord,
  withTrace,
} from "../../src/testing/model/drivePeerMachine.js";
import { H, type Run, runArb, stepArb } from "../../src/testing/model/peerRunArbitraries.js";
import {
  type ModelState,
  modelBackoffMs,
  modelWaitIsOver,
  PeerModel,
} from "../../src/testing/model/referenceModel.js";

const CONTEXT_KEYS = [
  "claimFailedAt",
  "claimFailures",
  "lastNoticeReceivedAt",
  "lastReplyAt",
  "noticeId",
  "replyId",
  "unreachableSince",
] as const;

/** The machine's snapshot in the model's shape (exactly the documented fields). */
function machineState(snapshot: PeerSnapshot): ModelState {
  const c = snapshot.context;
  return {
    leaves: peerLeaves(snapshot.value),
    context: {
      noticeId: c.noticeId,
      unreachableSince: c.unreachableSince,
      lastNoticeReceivedAt: c.lastNoticeReceivedAt,
      replyId: c.replyId,
      lastReplyAt: c.lastReplyAt,
      claimFailures: c.claimFailures,
      claimFailedAt: c.claimFailedAt,
    },
  };
}

const atOf = (event: unknown): number => Reflect.get(event as object, "at") as number;

const isEpisode = (olm: string): boolean => olm === "noticePending" || olm === "noticeDelivered";
const olmOf = (s: PeerSnapshot) => peerLeaves(s.value).olm;
const isQueuedLeaf = (reply: string): boolean =>
  reply === "newSessionDummyQueued" || reply === "existingSessionDummyQueued";

/**
 * Machine and model in lockstep from `from`; asserts agreement after every step. `checkKind`
 * false leaves the applied/ignored distinction to property a, so that a property started from
 * a restored snapshot reports its own findings first.
 */
function lockstep(run: Run, from?: PeerSnapshot, checkKind = true): StepRecord[] {
  const model = new PeerModel(from === undefined ? undefined : machineState(from));
  return drive(run, {
    roundTrip: true,
    ...(from === undefined ? {} : { from }),
    check: (record) => {
      if (record.kind === "persist") {
        expect(record.after, "restored snapshot").toStrictEqual(record.before);
      } else {
        const expected = model.apply(record.event);
        if (checkKind || record.kind === "rejected" || expected.kind === "rejected") {
          expect(record.kind, "result kind").toBe(expected.kind);
        }
        expect(record.commands, "commands").toStrictEqual(expected.commands);
        if (record.kind !== "applied") {
          expect(record.after, "same snapshot object").toBe(record.before);
        }
      }
      expect(machineState(record.after), "leaves and context").toStrictEqual(model.state());
      expect(Object.keys(record.after.context).sort(), "context keys").toEqual([...CONTEXT_KEYS]);
      expect(brokenInvariant(record.after), "brokenInvariant").toBeUndefined();
    },
  });
}

describe("peer machine ≡ reference model", () => {
  test.prop([runArb])("a. step by step: kind, commands, leaves, context, invariant", (run) => {
    lockstep(run);
  });

  test.prop([runArb])("b. one m.no_olm per failure episode, retries carry its id", (run) => {
    const records = drive(run, { roundTrip: true });
    withTrace("b", records, () => {
      let episodes = 0;
      let sendNoOlm = 0;
      let delivered = 0;
      const sentIds = new Set<number>();
      for (const r of eventRecords(records)) {
        const starts = !isEpisode(olmOf(r.before)) && isEpisode(olmOf(r.after));
        if (starts) episodes += 1;
        const sends = r.commands.filter((c) => c.type === "sendNoOlm");
        sendNoOlm += sends.length;
        // A notice goes out only when an episode starts, once, with the episode's id.
        expect(sends.length).toBe(starts ? 1 : 0);
        for (const c of sends) {
          expect(c.noticeId).toBe(r.after.context.noticeId);
          expect(sentIds.has(c.noticeId)).toBe(false);
          sentIds.add(c.noticeId);
        }
        if (olmOf(r.before) === "noticePending" && olmOf(r.after) === "noticeDelivered") {
          expect(eventType(r.event)).toBe("NOTICE_SENT");
          delivered += 1;
        }
        for (const c of r.commands) {
          if (c.type === "retryNoOlm") {
            // A failed send, or a restart over a pending notice.
            expect(["NOTICE_SEND_FAILED", "RESUMED"]).toContain(eventType(r.event));
            expect(olmOf(r.before)).toBe("noticePending");
            expect(c.noticeId).toBe(r.before.context.noticeId);
            expect(sentIds.has(c.noticeId)).toBe(true);
          }
        }
      }
      expect(sendNoOlm).toBe(episodes);
      expect(delivered).toBeLessThanOrEqual(episodes);
    });
  });

  test.prop([runArb])(
    "c. at most one delivered reply (and one new session) per hour of forward clock, from REPLY_SUCCEEDED",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("c", records, () => {
        // The accumulated forward clock: sum of max(0, Δat) over consecutive accepted events.
        let forward = 0;
        let previousAt: number | undefined;
        let lastReply: number | undefined;
        let lastNewSession: number | undefined;
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const at = atOf(r.event);
          if (previousAt !== undefined) forward += Math.max(0, at - previousAt);
          previousAt = at;
          const replies = r.commands.filter((c) => c.type === "reportRepliedToNotice");
          // A reply counts when the homeserver accepted its m.dummy, and only then.
          const delivered = eventType(r.event) === "REPLY_SUCCEEDED" && r.kind === "applied";
          expect(replies.length).toBe(delivered ? 1 : 0);
          const reply = replies[0];
          if (reply === undefined) continue;
          if (lastReply !== undefined) expect(forward - lastReply).toBeGreaterThanOrEqual(H);
          lastReply = forward;
          if (reply.newSession) {
            if (lastNewSession !== undefined) {
              expect(forward - lastNewSession).toBeGreaterThanOrEqual(H);
            }
            lastNewSession = forward;
          }
        }
      });
    },
  );

  test.prop([runArb])("d. persist → JSON → restore at any point changes nothing", (run) => {
    // Straight: persist steps are no-ops. Events are resolved once, here.
    const straight = drive(run, { roundTrip: false });
    const restoredRecords: StepRecord[] = [];
    withTrace("d (straight run)", straight, () => {
      let snapshot = initialPeerSnapshot;
      for (const r of straight) {
        const before = snapshot;
        if (r.kind === "persist") {
          snapshot = roundTrip(snapshot);
          restoredRecords.push({ kind: "persist", before, after: snapshot });
          continue;
        }
        const result = stepPeer(snapshot, r.event);
        snapshot = result.snapshot;
        const commands = result.kind === "applied" ? result.commands : [];
        restoredRecords.push({
          kind: result.kind,
          event: r.event,
          commands,
          before,
          after: snapshot,
        });
        expect(result.kind).toBe(r.kind);
        expect(commands).toStrictEqual(r.commands);
        expect(snapshot).toStrictEqual(r.after);
      }
      const allCommands = (rs: readonly StepRecord[]): PeerCommand[] =>
        eventRecords(rs).flatMap((r) => [...r.commands]);
      expect(allCommands(restoredRecords)).toStrictEqual(allCommands(straight));
      expect(snapshot).toStrictEqual(straight.at(-1)?.after ?? initialPeerSnapshot);
    });
  });

  test.prop([runArb])("e. no ping-pong: a failed reply never commands anything", (run) => {
    const records = drive(run, { roundTrip: true });
    withTrace("e", records, () => {
      for (const r of eventRecords(records)) {
        if (eventType(r.event) !== "REPLY_FAILED") continue;
        expect(r.commands.some((c) => c.type === "sendNoOlm")).toBe(false);
        expect(r.commands).toEqual([]);
      }
    });
  });

  test.prop([runArb])(
    "g. the reply hour starts at delivery, or at the loss of a new-session reply's m.dummy: no reply within an hour of either; a lost existing-session m.dummy starts none",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("g", records, () => {
        let forward = 0;
        let previousAt: number | undefined;
        // Forward clock at the last event that started the hour.
        let hourFrom: number | undefined;
        // The rule's anchor, kept here from the rule alone: the reading of the last accepted
        // REPLY_SUCCEEDED or lost new-session m.dummy (REPLY_FAILED from newSessionDummyQueued),
        // moved back by any later notice reading (a clock gone backwards).
        let anchor: number | null = null;
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const type = eventType(r.event);
          const at = atOf(r.event);
          if (previousAt !== undefined) forward += Math.max(0, at - previousAt);
          previousAt = at;
          const starts = r.commands.filter(
            (c) => c.type === "claimKeyAndSendDummy" || c.type === "sendDummy",
          );
          // No reply starts within an hour (of forward clock) after one that started the hour.
          if (starts.length > 0 && hourFrom !== undefined) {
            expect(forward - hourFrom, "hour since the hour started").toBeGreaterThanOrEqual(H);
          }
          // And nothing else starts the hour: with no reply in flight, a notice is answered
          // exactly when the hour since its start is over (or it never started), whatever
          // existing-session m.dummy was queued, failed or restarted since; unless it would
          // need a claim while the device's claim backoff runs (R5, property i).
          if (type === "NOTICE_RECEIVED" && peerLeaves(r.before.value).reply === "idle") {
            const open = anchor === null || (at >= anchor && at - anchor >= H);
            const { claimFailedAt, claimFailures } = r.before.context;
            const claimHeld =
              olmOf(r.before) !== "established" &&
              claimFailedAt !== null &&
              !modelWaitIsOver(claimFailedAt, at, modelBackoffMs(claimFailures));
            expect(starts.length, `notice at ${at}, anchor ${anchor}`).toBe(
              open && !claimHeld ? 1 : 0,
            );
          }
          if (type === "NOTICE_RECEIVED" && anchor !== null) anchor = Math.min(anchor, at);
          const lostNewSessionDummy =
            type === "REPLY_FAILED" && peerLeaves(r.before.value).reply === "newSessionDummyQueued";
          if (r.kind === "applied" && (type === "REPLY_SUCCEEDED" || lostNewSessionDummy)) {
            hourFrom = forward;
            anchor = at;
          }
          expect(r.after.context.lastReplyAt, "lastReplyAt is the hour's anchor").toBe(anchor);
        }
      });
    },
  );

  test.prop([runArb])(
    "h. new sessions for replies an hour apart: claimKeyAndSendDummy commands whose session was made (DUMMY_QUEUED) lie an hour of forward clock apart, and so do the sessions",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("h", records, () => {
        let forward = 0;
        let previousAt: number | undefined;
        // Forward clock at each claimKeyAndSendDummy command, by its reply id (ids are never
        // reused within a run: every reply, and every restart of one, takes a fresh id).
        const claimedAt = new Map<number, number>();
        let lastMade: { readonly claim: number; readonly made: number } | undefined;
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const at = atOf(r.event);
          if (previousAt !== undefined) forward += Math.max(0, at - previousAt);
          previousAt = at;
          for (const c of r.commands) {
            if (c.type === "claimKeyAndSendDummy") {
              expect(claimedAt.has(c.replyId), "a fresh reply id").toBe(false);
              claimedAt.set(c.replyId, forward);
            }
          }
          if (eventType(r.event) !== "DUMMY_QUEUED" || r.kind !== "applied") continue;
          // The m.dummy of a claim is queued: the claim made a session.
          const claim = claimedAt.get(Reflect.get(r.event as object, "replyId") as number);
          if (claim === undefined) continue;
          if (lastMade !== undefined) {
            expect(claim - lastMade.claim, "between the claims").toBeGreaterThanOrEqual(H);
            expect(forward - lastMade.made, "between the sessions").toBeGreaterThanOrEqual(H);
          }
          lastMade = { claim, made: forward };
        }
      });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// f. restore rejects garbage

/** A path into a JSON value and what to do there. */
type Mutation =
  | { readonly op: "set"; readonly path: readonly string[]; readonly value: unknown }
  | { readonly op: "delete"; readonly path: readonly string[] };

const FIELD_PATHS: readonly (readonly string[])[] = [
  ["v"],
  ["value"],
  ["value", "olm"],
  ["value", "olm", "unreachable"],
  ["value", "reply"],
  ["value", "reply", "replying"],
  ["context"],
  ...CONTEXT_KEYS.map((k) => ["context", k]),
  ["extra"],
  ["value", "extra"],
  ["context", "extra"],
];

/**
 * Parsed JSON that trips careless code: own keys shadowing Object.prototype methods, so that
 * String(x) or `${x}` throws, and a "__proto__" own key.
 */
const poisonArb: fc.Arbitrary<unknown> = fc
  .constantFrom(
    '{"toString":0}',
    '{"toString":{},"valueOf":{}}',
    '[{"toString":0}]',
    '{"__proto__":{"v":1}}',
    '{"constructor":0,"hasOwnProperty":0}',
  )
  .map((text): unknown => JSON.parse(text));

/** Plausible-looking replacement values: leaf names, counts, times, and junk. */
const plausibleArb: fc.Arbitrary<unknown> = fc.oneof(
  poisonArb,
  fc.constantFrom(
    "noSession",
    "established",
    "noticePending",
    "noticeDelivered",
    "idle",
    "backingOff",
    "newSession",
    "existingSession",
    "newSessionDummyQueued",
    "existingSessionDummyQueued",
    null,
    0,
    1,
    8,
    9,
    -1,
    0.5,
    2 ** 53,
  ),
  fc.constantFrom(
    { unreachable: "noticePending" },
    { unreachable: "noticeDelivered" },
    { replying: "newSession" },
    { replying: "existingSession" },
    { replying: "newSessionDummyQueued" },
    { replying: "existingSessionDummyQueued" },
    { replying: "idle" },
  ),
  fc.integer({ min: -10, max: 1_000_000 }),
  fc.jsonValue(),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    path: fc.constantFrom(...FIELD_PATHS),
    value: plausibleArb,
  }),
  fc.record({ op: fc.constant("delete" as const), path: fc.constantFrom(...FIELD_PATHS) }),
);

function mutate(json: unknown, m: Mutation): unknown {
  const [head, ...rest] = m.path;
  if (head === undefined) return m.op === "set" ? m.value : undefined;
  if (typeof json !== "object" || json === null || Array.isArray(json)) return json;
  const copy: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  if (rest.length === 0 && m.op === "delete") {
    delete copy[head];
    return copy;
  }
  copy[head] = mutate(copy[head], { ...m, path: rest });
  return copy;
}

/** A persisted snapshot of a machine after a random run, as parsed JSON. */
const persistedJsonArb: fc.Arbitrary<unknown> = fc
  .record({
    start: fc.integer({ min: 0, max: 5 * H }),
    steps: fc.array(stepArb, { maxLength: 30, size: "max" }),
  })
  .map((run) => {
    const last = drive(run, { roundTrip: false }).at(-1)?.after ?? initialPeerSnapshot;
    return JSON.parse(JSON.stringify(persistPeerSnapshot(last))) as unknown;
  });

const timeArb = fc.integer({ min: 0, max: 10 * H });

/** Snapshots of the right outline with random leaves and context numbers. */
const outlineArb: fc.Arbitrary<unknown> = fc.record({
  v: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.jsonValue() }),
  value: fc.record({
    olm: fc.constantFrom<unknown>(
      "noSession",
      "established",
      { unreachable: "noticePending" },
      { unreachable: "noticeDelivered" },
    ),
    reply: fc.constantFrom<unknown>(
      "idle",
      "backingOff",
      { replying: "newSession" },
      { replying: "existingSession" },
      { replying: "newSessionDummyQueued" },
      { replying: "existingSessionDummyQueued" },
    ),
  }),
  context: fc.record({
    noticeId: fc.integer({ min: 0, max: 3 }),
    unreachableSince: fc.option(timeArb),
    lastNoticeReceivedAt: fc.option(timeArb),
    replyId: fc.integer({ min: 0, max: 3 }),
    lastReplyAt: fc.option(timeArb),
    claimFailures: fc.integer({ min: 0, max: 9 }),
    claimFailedAt: fc.option(timeArb),
  }),
});

/**
 * Random snapshots near the ones restore accepts: the fields that go together are drawn
 * together. Restore accepts only reachable snapshots, which these often are not (a notice id
 * with no session ever, a reply in flight older than the last reply), so f4 also draws from
 * `reachableCandidateArb`: a concrete snapshot of every reachable shape.
 */
/** A reachable snapshot as read back from JSON storage (where -0 is 0). */
const storedReachableArb = reachableCandidateArb.map((x): unknown => JSON.parse(JSON.stringify(x)));

const plausibleSnapshotArb: fc.Arbitrary<unknown> = fc
  .record({
    olm: fc.constantFrom("noSession", "established", "noticePending", "noticeDelivered"),
    reply: fc.constantFrom(
      "idle",
      "backingOff",
      "newSession",
      "existingSession",
      "newSessionDummyQueued",
      "existingSessionDummyQueued",
    ),
    noticeId: fc.integer({ min: 1, max: 3 }),
    replyId: fc.integer({ min: 1, max: 3 }),
    lastNoticeReceivedAt: fc.option(timeArb),
    lastReplyAt: fc.option(timeArb),
    unreachableSince: timeArb,
    claimFailures: fc.integer({ min: 0, max: 8 }),
    claimFailedAt: timeArb,
  })
  .map((r) => {
    const inEpisode = r.olm === "noticePending" || r.olm === "noticeDelivered";
    const claimFailures = r.reply === "backingOff" ? Math.max(1, r.claimFailures) : r.claimFailures;
    return {
      v: 1,
      value: {
        olm: inEpisode ? { unreachable: r.olm } : r.olm,
        reply: r.reply === "idle" || r.reply === "backingOff" ? r.reply : { replying: r.reply },
      },
      context: {
        noticeId: r.noticeId,
        unreachableSince: inEpisode ? r.unreachableSince : null,
        lastNoticeReceivedAt: r.lastNoticeReceivedAt,
        replyId: r.replyId,
        lastReplyAt: r.lastReplyAt,
        claimFailures,
        claimFailedAt: claimFailures > 0 ? r.claimFailedAt : null,
      },
    };
  });

function checkRestore(input: unknown): PeerSnapshot | undefined {
  let restored: ReturnType<typeof restorePeerSnapshot> | undefined;
  expect(() => {
    restored = restorePeerSnapshot(input);
  }).not.toThrow();
  if (restored === undefined || !restored.ok) return undefined;
  expect(brokenInvariant(restored.value)).toBeUndefined();
  return restored.value;
}

describe("f. restore rejects garbage", () => {
  test.prop([fc.jsonValue()])("f1. arbitrary JSON never throws; accepted ⇒ invariant", (json) => {
    checkRestore(json);
  });

  test.prop([
    fc.record({ v: fc.oneof(poisonArb, fc.constant(1)), value: poisonArb, context: poisonArb }),
  ])("f1b. JSON with keys shadowing Object.prototype never throws", (json) => {
    checkRestore(json);
  });

  test.prop([persistedJsonArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })])(
    "f2. mutated persisted snapshots never throw; accepted ⇒ invariant",
    (json, mutations) => {
      expect(checkRestore(json)).toBeDefined();
      checkRestore(mutations.reduce(mutate, json));
    },
  );

  test.prop([fc.oneof(outlineArb, plausibleSnapshotArb)])(
    "f3. well-outlined random snapshots: accepted ⇒ invariant",
    (json) => {
      checkRestore(json);
    },
  );

  // restorePeerSnapshot promises "a restored machine is one the machine itself could have
  // produced". Then stepping from any snapshot it accepts must keep the invariant and follow
  // the same rules as from a fresh peer.
  test.prop([fc.oneof(plausibleSnapshotArb, storedReachableArb), runArb])(
    "f4. from any accepted snapshot the machine keeps its invariant and ≡ model",
    (json, run) => {
      const restored = restorePeerSnapshot(json);
      if (!restored.ok) return;
      withTrace(`restored from ${JSON.stringify(json)}`, [], () =>
        lockstep(run, restored.value, false),
      );
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Non-vacuity: the generator reaches the interesting corners often enough.

describe("the run generator reaches the interesting cases", () => {
  it("covers episodes, retries, withdrawals, backoff, queued and lost m.dummies, lost sessions, hour edges and backwards clocks", () => {
    const runs = fc.sample(runArb, { numRuns: 1000, seed: 42 });
    const tally = new Map<string, number>();
    const bump = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
    for (const run of runs) {
      const records = eventRecords(drive(run, { roundTrip: true }));
      const seen = new Set<string>();
      let replies = 0;
      let newReplies = 0;
      let sessionsMade = 0;
      // The reading of the current attempt's DUMMY_QUEUED, and of an existing-session one
      // queued then lost; the reading at which a new-session reply's m.dummy was lost.
      let queuedAt: number | undefined;
      let lostQueuedAt: number | undefined;
      let lostNewSessionAt: number | undefined;
      let lastDelivery: { at: number; queuedAt: number } | undefined;
      // The session was lost and no other has come since.
      let sessionGone = false;
      for (const r of records) {
        for (const c of r.commands) seen.add(c.type);
        const type = eventType(r.event);
        if (r.kind === "rejected") seen.add("rejected");
        const replyBefore = peerLeaves(r.before.value).reply;
        const replyAfter = peerLeaves(r.after.value).reply;
        if (r.kind === "applied" && type === "DUMMY_QUEUED") {
          queuedAt = atOf(r.event);
          if (r.commands.some((c) => c.type === "reportPeerReachable")) {
            seen.add("dummyQueuedEndsEpisode");
          }
          if (replyBefore === "newSession") {
            sessionsMade += 1;
            if (r.before.context.claimFailures > 0) seen.add("dummyQueuedClearsBackoff");
          }
        }
        if (r.kind === "applied" && type === "REPLY_FAILED" && isQueuedLeaf(replyBefore)) {
          seen.add(replyBefore === "newSessionDummyQueued" ? "lostNewDummy" : "lostExistingDummy");
          if (replyBefore === "existingSessionDummyQueued") lostQueuedAt = queuedAt;
          else lostNewSessionAt = atOf(r.event);
        }
        if (r.kind === "applied" && type === "REPLY_SUCCEEDED" && queuedAt !== undefined) {
          lastDelivery = { at: atOf(r.event), queuedAt };
          lostQueuedAt = undefined;
          lostNewSessionAt = undefined;
        }
        if (r.kind !== "rejected" && type === "SESSION_LOST") {
          seen.add(r.kind === "applied" ? "sessionLost" : "sessionLostIgnored");
          if (r.kind === "applied") sessionGone = true;
        }
        if (olmOf(r.after) !== "noSession") sessionGone = false;
        if (type === "NOTICE_RECEIVED" && replyBefore === "idle" && r.kind !== "rejected") {
          const at = atOf(r.event);
          const answered = r.commands.length > 0;
          if (sessionGone && r.commands.some((c) => c.type === "claimKeyAndSendDummy")) {
            seen.add("claimAfterSessionLost");
          }
          // Answered at once although an existing-session m.dummy was queued (and lost) within
          // the hour.
          if (answered && lostQueuedAt !== undefined && at >= lostQueuedAt) {
            if (at - lostQueuedAt < H) seen.add("lostExistingDummyAnsweredWithinHour");
          }
          // Not answered: inside the hour after a new-session m.dummy was lost.
          if (!answered && lostNewSessionAt !== undefined && at >= lostNewSessionAt) {
            if (at - lostNewSessionAt < H) seen.add("lostNewDummyHourHeld");
          }
          // Not answered: inside the hour from delivery, though over an hour after queueing.
          if (!answered && lastDelivery !== undefined && at - lastDelivery.queuedAt >= H) {
            if (at >= lastDelivery.at && at - lastDelivery.at < H) {
              seen.add("hourFromDeliveryNotQueue");
            }
          }
        }
        if (type === "RESUMED" && isQueuedLeaf(replyAfter)) seen.add("resumedWithDummyQueued");
        if (type === "NOTICE_RECEIVED" && peerLeaves(r.before.value).reply === "backingOff") {
          seen.add(r.commands.length > 0 ? "claimAfterBackoff" : "stillBackingOff");
        }
        const c = r.commands.find((x) => x.type === "reportRepliedToNotice");
        if (c !== undefined) {
          replies += 1;
          if (c.newSession) newReplies += 1;
        }
        const at =
          r.kind === "rejected" ? undefined : (Reflect.get(r.event as object, "at") as number);
        const last = r.before.context.lastReplyAt;
        if (type === "NOTICE_RECEIVED" && at !== undefined && last !== null && at === last + H) {
          seen.add("noticeExactlyAtHour");
        }
        if (at !== undefined && last !== null && at < last && type === "NOTICE_RECEIVED") {
          seen.add("backwardsReanchor");
        }
        if (r.after.context.claimFailures >= 3) seen.add("threeClaimFailures");
        if (r.after.context.claimFailures === 8) seen.add("claimFailuresCapped");
      }
      if (replies >= 2) seen.add("twoReplies");
      if (newReplies >= 2) seen.add("twoNewSessionReplies");
      if (sessionsMade >= 2) seen.add("twoSessionsMade");
      for (const key of seen) bump(key);
    }
    const counts = Object.fromEntries(tally);
    for (const key of [
      "sendNoOlm",
      "retryNoOlm",
      "withdrawNoOlm",
      "reportPeerReachable",
      "claimKeyAndSendDummy",
      "sendDummy",
      "ensureDummyQueued",
      "reportRepliedToNotice",
      "rejected",
      "dummyQueuedEndsEpisode",
      "lostNewDummy",
      "lostExistingDummy",
      "lostExistingDummyAnsweredWithinHour",
      "lostNewDummyHourHeld",
      "dummyQueuedClearsBackoff",
      "sessionLost",
      "sessionLostIgnored",
      "claimAfterSessionLost",
      "twoSessionsMade",
      "hourFromDeliveryNotQueue",
      "resumedWithDummyQueued",
      "claimAfterBackoff",
      "stillBackingOff",
      "noticeExactlyAtHour",
      "backwardsReanchor",
      "threeClaimFailures",
      "claimFailuresCapped",
      "twoReplies",
      "twoNewSessionReplies",
    ]) {
      expect(counts[key] ?? 0, `${key} in ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(20);
    }
  });
});
