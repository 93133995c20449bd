// R5, the per-device claim backoff (share-time claims and reply claims share it), as properties
// of whole runs of the machine, driven only through stepPeer. Each property keeps what it needs
// from the rule alone (the failures since the last clear, the anchor, the forward clock) rather
// than from the reference model; property a (peerModel.test.ts) compares the machine with the
// model step by step over the same kind of runs, which include every R5 event.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { type PeerSnapshot, peerLeaves } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import {
  drive,
  type EventRecord,
  eventRecords,
  eventType,
  withTrace,
} from "../../src/testing/model/drivePeerMachine.js";
import {
  type Run,
  runArb,
  type Step,
  serialSharesRunArb,
} from "../../src/testing/model/peerRunArbitraries.js";
import { modelBackoffMs, modelWaitIsOver } from "../../src/testing/model/referenceModel.js";

const MAX_COUNTED_FAILURES = 8;

const atOf = (event: unknown): number => Reflect.get(event as object, "at") as number;
const leavesOf = (s: PeerSnapshot) => peerLeaves(s.value);

/**
 * What an accepted event does to the claim backoff, by the rules: a failed claim (CLAIM_FAILED,
 * or a reply's claim that fails and backs off, R3) is a step; a session of any origin, new keys
 * (DEVICE_CHANGED), a reply's claim that made a session (its m.dummy queued), a delivered reply,
 * or a lost new-session m.dummy (the claim worked) clear it.
 */
function backoffEffect(r: EventRecord): "failure" | "clear" | undefined {
  if (r.kind === "rejected") return undefined;
  const type = eventType(r.event);
  const before = leavesOf(r.before).reply;
  const after = leavesOf(r.after).reply;
  if (type === "CLAIM_FAILED") return "failure";
  if (type === "SESSION_ESTABLISHED" || type === "DEVICE_CHANGED") return "clear";
  if (r.kind !== "applied") return undefined;
  if (type === "REPLY_FAILED" && before === "newSession" && after === "backingOff") {
    return "failure";
  }
  if (type === "DUMMY_QUEUED" && before === "newSession") return "clear";
  if (type === "REPLY_SUCCEEDED") return "clear";
  if (type === "REPLY_FAILED" && before === "newSessionDummyQueued") return "clear";
  return undefined;
}

/** The backoff as the rule keeps it, step by step, on the reading clock and the forward clock. */
class BackoffTracker {
  failures = 0;
  /** The last failure's reading, moved back by earlier readings of notices and claim requests. */
  anchor: number | null = null;
  /** The forward clock at the last failure. */
  failedForward: number | undefined;
  /** Sum of max(0, Δat) over consecutive accepted events. */
  forward = 0;
  #previousAt: number | undefined;

  /** Call first for every accepted event. */
  tick(at: number): void {
    if (this.#previousAt !== undefined) this.forward += Math.max(0, at - this.#previousAt);
    this.#previousAt = at;
  }

  wait(): number {
    return this.failures === 0 ? 0 : modelBackoffMs(this.failures);
  }

  over(at: number): boolean {
    return this.anchor === null || modelWaitIsOver(this.anchor, at, this.wait());
  }

  /** Call after the checks of a step, with its record. */
  update(r: EventRecord): void {
    const type = eventType(r.event);
    const at = atOf(r.event);
    if ((type === "NOTICE_RECEIVED" || type === "CLAIM_REQUESTED") && this.anchor !== null) {
      this.anchor = Math.min(this.anchor, at);
    }
    const effect = backoffEffect(r);
    if (effect === "failure") {
      this.failures = Math.min(this.failures + 1, MAX_COUNTED_FAILURES);
      this.anchor = at;
      this.failedForward = this.forward;
    } else if (effect === "clear") {
      this.failures = 0;
      this.anchor = null;
      this.failedForward = undefined;
    }
  }
}

const isShareDecision = (type: string): boolean => type === "claimForShare" || type === "skipClaim";

describe("R5: one claim backoff per device, share-time claims included", () => {
  test.prop([runArb])(
    "i. no claimForShare inside the backoff (forward clock since the last failed claim, 15 s × 2ⁿ for its count); one for every CLAIM_REQUESTED at or after its end; skipClaim says that end",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("i", records, () => {
        const backoff = new BackoffTracker();
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const type = eventType(r.event);
          const at = atOf(r.event);
          backoff.tick(at);
          const grants = r.commands.filter((c) => c.type === "claimForShare");
          const skips = r.commands.filter((c) => c.type === "skipClaim");
          if (type !== "CLAIM_REQUESTED") {
            expect(grants.length + skips.length, "only a claim request is answered so").toBe(0);
          } else {
            const over = backoff.over(at);
            const where = `claim request at ${at}, ${backoff.failures} failures from ${backoff.anchor}`;
            expect(grants.length, where).toBe(over ? 1 : 0);
            expect(skips.length, where).toBe(over ? 0 : 1);
            if (grants.length > 0 && backoff.failedForward !== undefined) {
              expect(
                backoff.forward - backoff.failedForward,
                "forward clock since the failure",
              ).toBeGreaterThanOrEqual(backoff.wait());
            }
            const skip = skips[0];
            if (skip !== undefined && backoff.anchor !== null) {
              expect(skip.until, "until").toBe(Math.min(backoff.anchor, at) + backoff.wait());
            }
          }
          backoff.update(r);
          expect(r.after.context.claimFailures, "claimFailures").toBe(backoff.failures);
          expect(r.after.context.claimFailedAt, "claimFailedAt is the backoff's anchor").toBe(
            backoff.anchor,
          );
        }
      });
    },
  );

  test.prop([serialSharesRunArb])(
    "j. one claim per backoff step: after a failed claim, at most one claimForShare until the next failure or clear (a shell that answers each claim before the next request)",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("j", records, () => {
        let sinceFailure: number | undefined;
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const grants = r.commands.filter((c) => c.type === "claimForShare").length;
          expect(grants).toBeLessThanOrEqual(1);
          if (sinceFailure !== undefined) {
            sinceFailure += grants;
            expect(sinceFailure, "claims since the last failed one").toBeLessThanOrEqual(1);
          }
          const effect = backoffEffect(r);
          if (effect === "failure") sinceFailure = 0;
          else if (effect === "clear") sinceFailure = undefined;
        }
      });
    },
  );

  /** A run, then the backoff ended by a session (any origin) or new keys, then a share. */
  const clearedRunArb: fc.Arbitrary<Run> = fc
    .record({
      run: runArb,
      clear: fc.constantFrom<Step["action"]>(
        { a: "session", origin: "outbound" },
        { a: "session", origin: "inbound" },
        { a: "session", origin: "existing" },
        { a: "deviceChanged" },
      ),
      // Before the share: nothing, or another event that neither fails nor clears a claim.
      between: fc.constantFrom<readonly Step["action"][]>(
        [],
        [{ a: "noticeIn" }],
        [{ a: "fail" }],
        [{ a: "sessionLost" }],
        [{ a: "resumed" }],
      ),
    })
    .map(({ run, clear, between }) => ({
      start: run.start,
      steps: [
        ...run.steps,
        { clock: { k: "same" }, action: clear, extra: false },
        ...between.map((action): Step => ({ clock: { k: "same" }, action, extra: false })),
        { clock: { k: "same" }, action: { a: "claimRequested" }, extra: false },
      ],
    }));

  test.prop([clearedRunArb])(
    "k. a session of any origin, or DEVICE_CHANGED, ends the backoff: the next CLAIM_REQUESTED gets claimForShare, however many claims failed before",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("k", records, () => {
        // Some clearing event came last but for the share (and the events between).
        let cleared = false;
        for (const r of eventRecords(records)) {
          if (r.kind === "rejected") continue;
          const type = eventType(r.event);
          if (type === "CLAIM_REQUESTED" && cleared) {
            expect(r.commands).toEqual([{ type: "claimForShare" }]);
          }
          const effect = backoffEffect(r);
          if (effect === "clear") {
            cleared = true;
            expect(r.after.context.claimFailures).toBe(0);
            expect(r.after.context.claimFailedAt).toBeNull();
            expect(leavesOf(r.after).reply).not.toBe("backingOff");
          } else if (effect === "failure") {
            cleared = false;
          }
        }
        // The share at the end was granted, whatever the run before left behind.
        expect(records.at(-1)).toMatchObject({
          event: { type: "CLAIM_REQUESTED" },
          commands: [{ type: "claimForShare" }],
        });
      });
    },
  );

  test.prop([runArb])(
    "l. a claim decision is nothing else: claimForShare and skipClaim come alone, only for CLAIM_REQUESTED, change no leaf; claimForShare changes nothing, skipClaim at most moves the anchor back",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("l", records, () => {
        for (const r of eventRecords(records)) {
          const decisions = r.commands.filter((c) => isShareDecision(c.type));
          if (decisions.length === 0) continue;
          expect(eventType(r.event)).toBe("CLAIM_REQUESTED");
          expect(r.commands, "alone").toHaveLength(1);
          expect(leavesOf(r.after), "leaves").toEqual(leavesOf(r.before));
          const { claimFailedAt: anchorAfter, ...afterRest } = r.after.context;
          const { claimFailedAt: anchorBefore, ...beforeRest } = r.before.context;
          expect(afterRest, "the rest of the context").toStrictEqual(beforeRest);
          if (decisions[0]?.type === "claimForShare") {
            expect(anchorAfter, "a claim changes nothing").toBe(anchorBefore);
          } else {
            // A skipped claim is no failure: no count, no new anchor, only a clock gone back.
            expect(anchorBefore).not.toBeNull();
            expect(anchorAfter).toBe(Math.min(anchorBefore ?? 0, atOf(r.event)));
          }
        }
      });
    },
  );

  test.prop([runArb])(
    "m. CLAIM_FAILED commands exactly what ESTABLISH_FAILED would (one sendNoOlm, only when it starts an episode) and changes only the backoff besides",
    (run) => {
      const records = drive(run, { roundTrip: true });
      withTrace("m", records, () => {
        for (const r of eventRecords(records)) {
          if (eventType(r.event) !== "CLAIM_FAILED" || r.kind === "rejected") continue;
          const at = atOf(r.event);
          const asFailure = stepPeer(r.before, { type: "ESTABLISH_FAILED", at });
          expect(asFailure.kind).not.toBe("rejected");
          expect(r.commands).toStrictEqual(asFailure.kind === "applied" ? asFailure.commands : []);
          expect(leavesOf(r.after)).toEqual(leavesOf(asFailure.snapshot));
          expect(r.after.context).toStrictEqual({
            ...asFailure.snapshot.context,
            claimFailures: Math.min(r.before.context.claimFailures + 1, MAX_COUNTED_FAILURES),
            claimFailedAt: at,
          });
          const inEpisode = (s: PeerSnapshot) => typeof s.value.olm === "object";
          expect(r.commands.filter((c) => c.type === "sendNoOlm")).toHaveLength(
            inEpisode(r.before) ? 0 : 1,
          );
        }
      });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Non-vacuity: the generators reach the R5 corners often enough.

describe("the run generators reach the R5 cases", () => {
  it("claims granted and skipped at the backoff's end, failures through shares, clears, notices inside a share backoff, backwards clocks", () => {
    const tally = new Map<string, number>();
    const runs = [
      ...fc.sample(runArb, { numRuns: 1000, seed: 7 }),
      ...fc.sample(serialSharesRunArb, { numRuns: 500, seed: 8 }),
    ];
    for (const run of runs) {
      const records = eventRecords(drive(run, { roundTrip: true }));
      const seen = new Set<string>();
      const backoff = new BackoffTracker();
      let shareFailures = 0;
      for (const r of records) {
        if (r.kind === "rejected") continue;
        const type = eventType(r.event);
        const at = atOf(r.event);
        backoff.tick(at);
        const before = leavesOf(r.before);
        const after = leavesOf(r.after);
        const running = backoff.anchor !== null && !backoff.over(at);
        if (type === "CLAIM_REQUESTED") {
          const granted = r.commands.some((c) => c.type === "claimForShare");
          seen.add(granted ? "claimForShare" : "skipClaim");
          if (backoff.anchor !== null) {
            const end = backoff.anchor + backoff.wait();
            if (granted && at === end) seen.add("grantedExactlyAtEnd");
            if (!granted && at === end - 1) seen.add("skippedJustBeforeEnd");
            if (!granted && at < backoff.anchor) seen.add("skipReanchors");
            if (granted) seen.add("grantedAfterFailure");
          }
        }
        if (type === "CLAIM_FAILED") {
          shareFailures += 1;
          seen.add(r.commands.length > 0 ? "claimFailedStartsEpisode" : "claimFailedInEpisode");
        }
        if (type === "CLAIM_FAILED" && before.reply !== "idle") seen.add("claimFailedMidReply");
        if (type === "DEVICE_CHANGED" && running) seen.add("deviceChangedEndsRunningBackoff");
        if (type === "SESSION_ESTABLISHED" && running && before.reply === "idle") {
          seen.add("sessionEndsShareBackoffWhileIdle");
        }
        if (type === "NOTICE_RECEIVED" && before.reply === "idle" && after.reply === "backingOff") {
          seen.add("noticeInsideShareBackoff");
        }
        if (type === "DEVICE_CHANGED" && before.reply === "backingOff") {
          seen.add("deviceChangedLeavesBackingOff");
        }
        backoff.update(r);
        if (backoff.failures >= 3 && type === "CLAIM_FAILED") seen.add("threeStepsWithShares");
        if (backoff.failures === MAX_COUNTED_FAILURES && type === "CLAIM_FAILED") {
          seen.add("cappedWithShares");
        }
      }
      if (shareFailures >= 2) seen.add("twoShareFailures");
      for (const key of seen) tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const counts = Object.fromEntries(tally);
    for (const key of [
      "claimForShare",
      "skipClaim",
      "grantedExactlyAtEnd",
      "skippedJustBeforeEnd",
      "skipReanchors",
      "grantedAfterFailure",
      "claimFailedStartsEpisode",
      "claimFailedInEpisode",
      "claimFailedMidReply",
      "deviceChangedEndsRunningBackoff",
      "sessionEndsShareBackoffWhileIdle",
      "noticeInsideShareBackoff",
      "deviceChangedLeavesBackingOff",
      "threeStepsWithShares",
      "cappedWithShares",
      "twoShareFailures",
    ]) {
      expect(counts[key] ?? 0, `${key} in ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(20);
    }
  });
});
