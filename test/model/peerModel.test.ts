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
import { reachableCandidateArb } from "../machine/snapshotArbitraries.js";
import {
  drive,
  eventRecords,
  eventType,
  H,
  type Run,
  roundTrip,
  runArb,
  type StepRecord,
  stepArb,
  withTrace,
} from "./modelHarness.js";
import { type ModelState, PeerModel } from "./referenceModel.js";

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

const isEpisode = (olm: string): boolean => olm === "noticePending" || olm === "noticeDelivered";
const olmOf = (s: PeerSnapshot) => peerLeaves(s.value).olm;

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
    "c. at most one reply (and one new session) per hour of forward clock",
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
          const at = Reflect.get(r.event as object, "at") as number;
          if (previousAt !== undefined) forward += Math.max(0, at - previousAt);
          previousAt = at;
          const reply = r.commands.find((c) => c.type === "reportRepliedToNotice");
          if (reply === undefined) continue;
          expect(eventType(r.event)).toBe("REPLY_SUCCEEDED");
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
    reply: fc.constantFrom("idle", "backingOff", "newSession", "existingSession"),
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
        reply:
          r.reply === "newSession" || r.reply === "existingSession"
            ? { replying: r.reply }
            : r.reply,
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
  it("covers episodes, retries, withdrawals, backoff, hour edges and backwards clocks", () => {
    const runs = fc.sample(runArb, { numRuns: 1000, seed: 42 });
    const tally = new Map<string, number>();
    const bump = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
    for (const run of runs) {
      const records = eventRecords(drive(run, { roundTrip: true }));
      const seen = new Set<string>();
      let replies = 0;
      let newReplies = 0;
      for (const r of records) {
        for (const c of r.commands) seen.add(c.type);
        const type = eventType(r.event);
        if (r.kind === "rejected") seen.add("rejected");
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
      "reportRepliedToNotice",
      "rejected",
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
