import { afterEach, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import type { SessionId } from "../../src/events/matrixIds.js";
import { HOUR, MINUTE, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Defect 8 of the robustness review: a wall clock that is wrong, in either direction, can never
 * shorten the one-hour rule, stretches no wait, and does not stick to what it was read for.
 * Bob's wall clock is `true time + skew`; his monotonic clock runs true.
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const YEAR = 365 * 24 * HOUR;

// The notice a device sends, built by the library's own builder.
const noOlmFrom = (from: PeerDevice) =>
  buildNoOlmNotice({ senderKey: from.curve25519, fromDevice: from.deviceId });

async function skewedBob() {
  const skew = { ms: 0 };
  world = await makeWorld({ alice: 5, bob: 5 }, undefined, (name) => {
    const w = () => world?.clock.now ?? 0;
    return name === "bob" ? { clock: { wall: () => w() + skew.ms, monotonic: w } } : {};
  });
  const [alice, bob] = [world.device("alice"), world.device("bob")];
  let n = 0;
  const notice = async () => {
    n += 1;
    await alice.sendRaw("m.room_key.withheld", bob.device, noOlmFrom(alice.device), `n${n}`);
    const [result] = await bob.sync();
    return result;
  };
  return { skew, alice, bob, clock: world.clock, notice };
}

describe("defect 8: clock errors do not stick", () => {
  it("a notice read while the wall clock was a year ahead explains only what came before it", async () => {
    const { skew, alice, bob, clock, notice } = await skewedBob();
    const noticeAt = clock.now;
    skew.ms = YEAR;
    expect(await notice()).toMatchObject({ kind: "noOlmNotice" });
    skew.ms = 0;
    clock.now += 10 * MINUTE;
    const query = (originServerTs: number) =>
      bob.kw.explainUndecryptable({
        sender: alice.device.userId,
        senderKey: alice.device.curve25519,
        roomId: ROOM,
        sessionId: "S" as SessionId,
        originServerTs,
      });
    expect(query(noticeAt - MINUTE)).toMatchObject({ kind: "explained", code: "m.no_olm" });
    // Sent after the notice (true time): not explained by it, although the clock read a year on.
    expect(query(noticeAt + 5 * MINUTE)).toEqual({ kind: "unexplained" });
    expect(query(noticeAt + 6 * 30 * 24 * HOUR)).toEqual({ kind: "unexplained" });
  });

  it("a jump back of 2 h right after a reply: the next reply comes one real hour later, not three", async () => {
    const { skew, clock, notice } = await skewedBob();
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    skew.ms = -2 * HOUR;
    clock.now += 59 * MINUTE;
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    clock.now += 2 * MINUTE;
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "existingSession" });
  });

  it("a jump forward of 2 h right after a reply does not shorten the hour", async () => {
    const { skew, clock, notice } = await skewedBob();
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    skew.ms = 2 * HOUR;
    clock.now += 10 * MINUTE;
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    clock.now += 51 * MINUTE;
    expect(await notice()).toMatchObject({ kind: "noOlmNotice", reply: "existingSession" });
  });

  it("a clock that throws or reads NaN stops time instead of breaking anything", async () => {
    world = await makeWorld({ alice: 5, bob: 5 }, undefined, (name) =>
      name === "bob"
        ? {
            clock: {
              wall: () => {
                throw new Error("no clock");
              },
              monotonic: () => Number.NaN,
            },
          }
        : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.sendRaw("m.room_key.withheld", bob.device, noOlmFrom(alice.device), "x");
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
  });
});
