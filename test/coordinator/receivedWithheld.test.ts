import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RECEIVED_WITHHELD_LIMITS,
  ReceivedWithheld,
  type ReceivedWithheldLimits,
  type WithheldReason,
} from "../../src/coordinator/receivedWithheld.js";
import type { Curve25519PublicKey, RoomId, SessionId } from "../../src/events/matrixIds.js";
import {
  MAX_REASON_LENGTH,
  type SessionWithheldContent,
} from "../../src/events/withheldContent.js";

const room = "!room:example.org" as RoomId;
const session = "SESSION" as SessionId;
const owner = "A".repeat(43) as Curve25519PublicKey;
const other = "B".repeat(43) as Curve25519PublicKey;
const keyOf = (name: string): Curve25519PublicKey => name.padEnd(43, "x") as Curve25519PublicKey;
const sessionOf = (index: number): SessionId => `S${index}` as SessionId;

const notice = (
  code: SessionWithheldContent["code"],
  senderKey = owner,
  sessionId = session,
  reason: string | undefined = `because ${code}`,
): SessionWithheldContent => ({
  kind: "session",
  algorithm: "m.megolm.v1.aes-sha2",
  code,
  roomId: room,
  sessionId,
  senderKey,
  ...(reason === undefined ? {} : { reason }),
  extra: {},
});

/** The order KeyWithholding.explainUndecryptable uses: the session's sender first, then m.unavailable. */
const explain = (
  received: ReceivedWithheld,
  sessionId: SessionId,
  senderKey: Curve25519PublicKey,
): WithheldReason | undefined =>
  received.specific(room, sessionId, senderKey) ?? received.unavailable(room, sessionId);

describe("ReceivedWithheld", () => {
  it("keeps a specific code per sender key and m.unavailable apart", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.unverified"));
    received.record(notice("m.unavailable", other));
    expect(received.specific(room, session, owner)).toEqual({
      code: "m.unverified",
      reason: "because m.unverified",
    });
    expect(received.specific(room, session, other)).toBeUndefined();
    expect(received.unavailable(room, session)).toEqual({
      code: "m.unavailable",
      reason: "because m.unavailable",
    });
  });

  it("m.unavailable never replaces a specific code", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.blacklisted"));
    received.record(notice("m.unavailable"));
    expect(received.specific(room, session, owner)?.code).toBe("m.blacklisted");
  });

  it("forgets the oldest entries beyond its bound", () => {
    const received = new ReceivedWithheld(3);
    for (let i = 0; i < 5; i++) received.record(notice("m.unverified", owner, sessionOf(i)));
    expect(received.size).toBe(3);
    expect(received.specific(room, sessionOf(0), owner)).toBeUndefined();
    expect(received.specific(room, sessionOf(4), owner)?.code).toBe("m.unverified");
  });

  it("the newest m.unavailable answer wins, whichever device gave it", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.unavailable", owner, session, "first"));
    received.record(notice("m.unavailable", other, session, "second"));
    expect(received.unavailable(room, session)?.reason).toBe("second");
    received.record(notice("m.unavailable", owner, session, "third"));
    expect(received.unavailable(room, session)?.reason).toBe("third");
  });

  it("recording the same notice again counts it once", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.unverified"));
    const bytes = received.bytes;
    received.record(notice("m.unverified"));
    expect([received.size, received.bytes]).toEqual([1, bytes]);
  });

  it("refuses limits it cannot honour", () => {
    expect(() => new ReceivedWithheld(-1)).toThrow(RangeError);
    expect(() => new ReceivedWithheld({ maxSenders: 0 })).toThrow(RangeError);
    expect(() => new ReceivedWithheld({ maxBytes: Number.NaN })).toThrow(RangeError);
  });
});

describe("one sender cannot evict another's explanations", () => {
  // As the coordinator builds it.
  const coordinatorStore = () => new ReceivedWithheld(100_000);

  it("a flood of 100,000 own-session notices leaves a victim's m.unverified in place", () => {
    const received = coordinatorStore();
    const victim = keyOf("victim");
    const attacker = keyOf("attacker");
    received.record(notice("m.unverified", victim, session));
    // The fallback the attacker hopes the explanation will reach.
    received.record(notice("m.unavailable", attacker, session, "planted"));
    for (let i = 0; i < 100_000; i++) {
      received.record(notice("m.blacklisted", attacker, sessionOf(i)));
    }
    expect(explain(received, session, victim)).toEqual({
      code: "m.unverified",
      reason: "because m.unverified",
    });
    expect(received.size).toBeLessThanOrEqual(100_000);
    // The flood evicted the attacker's own oldest notices instead.
    expect(received.specific(room, sessionOf(0), attacker)).toBeUndefined();
    expect(received.specific(room, sessionOf(99_999), attacker)?.code).toBe("m.blacklisted");
  });

  it("a flood of m.unavailable from one device leaves another device's m.unavailable", () => {
    const received = coordinatorStore();
    const helper = keyOf("helper");
    const flooder = keyOf("flooder");
    received.record(notice("m.unavailable", helper, session, "helper's answer"));
    for (let i = 0; i < 100_000; i++) {
      received.record(notice("m.unavailable", flooder, sessionOf(i), "flood"));
    }
    expect(received.unavailable(room, session)).toEqual({
      code: "m.unavailable",
      reason: "helper's answer",
    });
    expect(received.size).toBeLessThanOrEqual(100_000);
  });

  it("more senders than maxSenders forget the one heard from least recently", () => {
    const received = new ReceivedWithheld({ maxSenders: 3 });
    for (const name of ["a", "b", "c"]) received.record(notice("m.unverified", keyOf(name)));
    received.record(notice("m.blacklisted", keyOf("a"), sessionOf(1))); // "a" is heard again
    received.record(notice("m.unverified", keyOf("d")));
    expect(received.senders).toBe(3);
    expect(received.specific(room, session, keyOf("b"))).toBeUndefined();
    expect(received.specific(room, session, keyOf("a"))?.code).toBe("m.unverified");
  });
});

describe("a byte budget as well as an entry budget", () => {
  // Made once and shared by every notice, so 200,000 of them cost no 13 GB to build.
  const longReason = "r".repeat(65_536);

  it("200,000 notices with 65,536-unit reasons stay within the default byte budget", () => {
    const received = new ReceivedWithheld(100_000);
    for (let i = 0; i < 200_000; i++) {
      received.record(
        notice("m.unverified", keyOf(`sender${i % 2_000}`), sessionOf(i), longReason),
      );
    }
    expect(received.bytes).toBeGreaterThan(0);
    expect(received.bytes).toBeLessThanOrEqual(DEFAULT_RECEIVED_WITHHELD_LIMITS.maxBytes);
    expect(received.size).toBeGreaterThan(0);
    expect(received.senders).toBeLessThanOrEqual(DEFAULT_RECEIVED_WITHHELD_LIMITS.maxSenders);
    const newest = received.specific(room, sessionOf(199_999), keyOf(`sender${199_999 % 2_000}`));
    expect(newest?.reason).toHaveLength(MAX_REASON_LENGTH);
  });

  it("long reasons are evicted by bytes, from their own sender, before the entry bound", () => {
    const received = new ReceivedWithheld({ maxEntries: 1_000, maxBytes: 100_000, maxSenders: 2 });
    received.record(notice("m.unverified", other, session, "short"));
    for (let i = 0; i < 20; i++) {
      received.record(notice("m.blacklisted", owner, sessionOf(i), longReason));
    }
    expect(received.bytes).toBeLessThanOrEqual(100_000);
    expect(received.size).toBeLessThan(20);
    expect(received.specific(room, sessionOf(0), owner)).toBeUndefined();
    expect(received.specific(room, sessionOf(19), owner)?.code).toBe("m.blacklisted");
    expect(received.specific(room, session, other)?.reason).toBe("short");
  });

  it("an over-long reason is clipped and its code kept", () => {
    const received = new ReceivedWithheld(10);
    received.record(
      notice("m.unverified", owner, session, `${"a".repeat(MAX_REASON_LENGTH - 1)}😀`),
    );
    const kept = received.specific(room, session, owner);
    expect(kept?.code).toBe("m.unverified");
    expect(kept?.reason).toBe("a".repeat(MAX_REASON_LENGTH - 1));
  });

  it("forgetting everything gives all the bytes back", () => {
    const received = new ReceivedWithheld({ maxSenders: 1 });
    received.record(notice("m.unverified", owner, session, longReason));
    received.record(notice("m.unavailable", other, session)); // forgets owner, the only other
    const one = new ReceivedWithheld({ maxSenders: 1 });
    one.record(notice("m.unavailable", other, session));
    expect([received.size, received.bytes]).toEqual([one.size, one.bytes]);
  });
});

const A = keyOf("alice");
const B = keyOf("bob");
const codes = ["m.unverified", "m.blacklisted", "m.unauthorised", "m.unavailable"] as const;

const noticeArb = (senderKey: Curve25519PublicKey) =>
  fc
    .record({
      code: fc.constantFrom(...codes),
      session: fc.nat({ max: 15 }),
      reasonLength: fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: 1_000, max: 70_000 })),
    })
    .map(({ code, session: index, reasonLength }) =>
      notice(code, senderKey, sessionOf(index), `${code}:${index}:`.padEnd(reasonLength, "r")),
    );

/** A's notices and B's, interleaved in any order (each keeps its own order). */
const interleavingArb = fc
  .tuple(fc.array(noticeArb(A), { maxLength: 40 }), fc.array(noticeArb(B), { maxLength: 80 }))
  .chain(([fromA, fromB]) =>
    fc
      .shuffledSubarray([...fromA.map((_, i) => i), ...fromB.map((_, i) => -1 - i)], {
        minLength: fromA.length + fromB.length,
      })
      .map((order) => {
        let a = 0;
        let b = 0;
        // The shuffle decides only who speaks next; each sender's own order is kept.
        return order.map((slot) =>
          slot >= 0 ? fromA[a++] : fromB[b++],
        ) as SessionWithheldContent[];
      }),
  );

const limitsArb = fc.record({
  maxEntries: fc.integer({ min: 2, max: 30 }),
  maxBytes: fc.integer({ min: 2_000, max: 60_000 }),
  maxSenders: fc.constant(2),
});

describe("properties", () => {
  test.prop([interleavingArb, limitsArb], { numRuns: 300 })(
    "for all interleavings, B's notices never cost A what A would keep within its share alone",
    (sequence, limits: Required<ReceivedWithheldLimits>) => {
      const shared = new ReceivedWithheld(limits);
      // A alone, in a store exactly A's share: what A is guaranteed whatever B does.
      const alone = new ReceivedWithheld({
        maxEntries: Math.floor(limits.maxEntries / limits.maxSenders),
        maxBytes: Math.floor(limits.maxBytes / limits.maxSenders),
        maxSenders: 1,
      });
      for (const content of sequence) {
        shared.record(content);
        if (content.senderKey === A) alone.record(content);
        expect(shared.size).toBeLessThanOrEqual(limits.maxEntries);
        expect(shared.bytes).toBeLessThanOrEqual(limits.maxBytes);
        for (let index = 0; index <= 15; index++) {
          const kept = alone.specific(room, sessionOf(index), A);
          if (kept !== undefined) expect(shared.specific(room, sessionOf(index), A)).toEqual(kept);
          if (alone.unavailable(room, sessionOf(index)) !== undefined) {
            expect(shared.unavailable(room, sessionOf(index))).toBeDefined();
          }
        }
      }
    },
  );

  test.prop([fc.array(fc.tuple(fc.nat({ max: 9 }), noticeArb(A)), { maxLength: 200 })], {
    numRuns: 200,
  })("for any senders, the totals stay within every bound", (steps) => {
    const limits = { maxEntries: 25, maxBytes: 50_000, maxSenders: 4 };
    const received = new ReceivedWithheld(limits);
    for (const [sender, content] of steps) {
      received.record({ ...content, senderKey: keyOf(`s${sender}`) });
      expect(received.size).toBeLessThanOrEqual(limits.maxEntries);
      expect(received.bytes).toBeLessThanOrEqual(limits.maxBytes);
      expect(received.senders).toBeLessThanOrEqual(limits.maxSenders);
    }
  });
});
