import { test as fcTest } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { PackedPeerStates, type PeerState } from "../../src/coordinator/packedPeerStates.js";
import type { PeerKey } from "../../src/devices/peerDevice.js";
import { initialPeerContext } from "../../src/machine/peerContext.js";

// The packed store against a plain Map: what was written is what is read, a state equal to the
// initial one is forgotten, and slots and time entries are reused, across growth.
const INITIAL = 6;
const time = fc.oneof(fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }));
const state: fc.Arbitrary<PeerState> = fc.oneof(
  fc.constant({ leaves: INITIAL, context: initialPeerContext }),
  fc.record({
    leaves: fc.integer({ min: 0, max: 23 }),
    context: fc.record({
      noticeId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff_ffff })),
      unreachableSince: time,
      lastNoticeReceivedAt: time,
      replyId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff_ffff })),
      lastReplyAt: time,
      claimFailures: fc.integer({ min: 0, max: 8 }),
      claimFailedAt: time,
    }),
  }),
);
const isInitial = (s: PeerState) =>
  s.leaves === INITIAL && JSON.stringify(s.context) === JSON.stringify(initialPeerContext);

describe("PackedPeerStates", () => {
  fcTest.prop([fc.array(state, { minLength: 3000, maxLength: 6000 })], { numRuns: 40 })(
    "reads back what was written; initial states are dropped",
    (writes) => {
      const packed = new PackedPeerStates(INITIAL);
      const model = new Map<string, PeerState>();
      // 2,500 devices, each written at least once, some again: past the first capacity (1,024).
      for (const [index, written] of writes.entries()) {
        const id = index % 2500;
        const key = `["@u${id}:x","D${id}","k"]` as PeerKey;
        packed.write(key, written);
        if (isInitial(written)) model.delete(key);
        else model.set(key, written);
      }
      expect(packed.size).toBe(model.size);
      for (const [key, expected] of model) {
        const read = packed.read(key as PeerKey);
        expect(read?.leaves).toBe(expected.leaves);
        expect(JSON.stringify(read?.context)).toBe(JSON.stringify(expected.context));
        expect(packed.leavesOf(key as PeerKey)).toBe(expected.leaves);
      }
      expect(new Set(packed.keys())).toEqual(new Set(model.keys()));
      expect(model.size).toBeGreaterThan(1024);
    },
  );
});
