import { afterEach, describe, expect, it, vi } from "vitest";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { SessionId } from "../../src/events/matrixIds.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import { emptyChanges } from "../../src/store/keyWithholdingStore.js";
import type { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import { deliveredTo, HOUR, MINUTE, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * What survives a restart of the coordinator over the same store (InMemoryStore here; the SQLite
 * store passes the same contract, and test/crash kills a real process). Each case is one that
 * was lost or doubled while only peer snapshots were durable.
 */

let world: World | undefined;
afterEach(() => {
  vi.useRealTimers();
  world?.close();
  world = undefined;
});

const leaves = (owner: SimulatedDevice, peer: SimulatedDevice) => {
  const { olm, reply } = peerLeaves(owner.stateOf(peer.device).value);
  return `${olm}/${reply}`;
};

const noOlmFrom = (d: SimulatedDevice) => ({
  type: "m.room_key.withheld",
  sender: d.device.userId,
  content: buildNoOlmNotice({
    senderKey: d.device.curve25519,
    fromDevice: d.device.deviceId,
  }) as unknown as JsonObject,
});

async function aliceAndBob(bobKeys = 0) {
  world = await makeWorld({ alice: 5, bob: bobKeys });
  return {
    hs: world.hs,
    clock: world.clock,
    alice: world.device("alice"),
    bob: world.device("bob"),
  };
}

describe("the outbox survives a restart", () => {
  it("an m.no_olm whose send failed goes out after a restart, once, with its original txnId", async () => {
    const { hs, alice, bob } = await aliceAndBob();
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(0);
    expect(alice.kw.pendingRequests).toBe(1);
    const [stored] = (await alice.store.load()).requests as { txnId: string }[];

    await alice.restart();
    expect(alice.kw.pendingRequests).toBe(1);
    await alice.kw.flush();
    const delivered = deliveredTo(hs, "m.room_key.withheld", bob.device.userId);
    expect(delivered.map((d) => d.txnId)).toEqual([stored?.txnId]);
    expect(leaves(alice, bob)).toBe("noticeDelivered/idle");
    expect((await alice.store.load()).requests).toEqual([]);

    // The episode goes on failing: the one-notice rule still holds across the restart.
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });

  it("a request the homeserver took but whose ack was lost is sent again under its txnId and delivered once", async () => {
    const { hs, alice, bob } = await aliceAndBob();
    hs.loseNextResponses(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(leaves(alice, bob)).toBe("noticePending/idle");
    await alice.restart();
    await alice.kw.flush();
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
    expect(leaves(alice, bob)).toBe("noticeDelivered/idle");
  });

  it("a per-session notice asked for again after a restart is not sent twice", async () => {
    const { hs, alice, bob } = await aliceAndBob(5);
    const request = {
      device: bob.device,
      code: "m.unverified" as const,
      roomId: ROOM,
      sessionId: "SESSION1" as SessionId,
    };
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.kw.withholdSessions([request]);
    await alice.restart();
    await alice.kw.withholdSessions([request]);
    await alice.restart();
    await alice.kw.withholdSessions([request]);
    await alice.kw.flush();
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });
});

describe("what a restart leaves in flight is settled", () => {
  it("an m.dummy queued before a restart is delivered after it, and the reply hour starts at delivery", async () => {
    const { hs, clock, alice, bob } = await aliceAndBob();
    // Bob has no keys for Alice to reach him with: Bob answers Alice's notice (he claims hers).
    await alice.shareRoomKey(ROOM, [bob.device]);
    hs.failNext(bob.device, "sendToDevice", 1);
    await bob.sync();
    expect(leaves(bob, alice)).toBe("established/newSessionDummyQueued");
    await bob.restart();
    clock.now += 30 * MINUTE;
    await bob.kw.flush();
    expect(leaves(bob, alice)).toBe("established/idle");
    expect(deliveredTo(hs, "m.room.encrypted", alice.device.userId)).toHaveLength(1);
    expect(bob.stateOf(alice.device).context.lastReplyAt).toBe(clock.now);
    const [got] = await alice.sync();
    expect(got).toMatchObject({ kind: "decrypted", type: "m.dummy" });

    // 50 minutes after delivery (80 after the m.dummy was queued) is still inside the hour.
    clock.now += 50 * MINUTE;
    alice.olm.forgetSessions(bob.device);
    const claims = hs.claimsAnswered;
    const answer = await bob.kw.handleToDeviceEvent(noOlmFrom(alice));
    expect(answer).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    expect(hs.claimsAnswered).toBe(claims);
  });

  it("a notice pending when the store lost its request is queued again, not forgotten", async () => {
    const { hs, alice, bob } = await aliceAndBob();
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    // Copy only the peer states into a new store: the outbox record is gone.
    const stored = await alice.store.load();
    const bare = new InMemoryStore();
    await bare.commit({
      ...emptyChanges(),
      peers: stored.peers as [string, JsonObject][],
      protocolTime: stored.protocolTime,
    });
    await alice.restartOver(bare);
    expect(alice.kw.nextWakeAt()).toMatchObject({ kind: "due", inMs: 0 });
    await alice.kw.flush();
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
    expect(leaves(alice, bob)).toBe("noticeDelivered/idle");
  });
});

describe("received per-session codes survive a restart", () => {
  it("an explanation from an m.unverified notice is still given after a restart", async () => {
    const { alice, bob } = await aliceAndBob(5);
    await alice.kw.withholdSessions([
      { device: bob.device, code: "m.unverified", roomId: ROOM, sessionId: "S1" as SessionId },
    ]);
    await bob.sync();
    const query = {
      sender: alice.device.userId,
      senderKey: alice.device.curve25519,
      roomId: ROOM,
      sessionId: "S1" as SessionId,
      originServerTs: 0,
    };
    expect(bob.kw.explainUndecryptable(query)).toMatchObject({ code: "m.unverified" });
    await bob.restart();
    expect(bob.kw.explainUndecryptable(query)).toMatchObject({
      kind: "explained",
      code: "m.unverified",
      source: "sessionNotice",
    });
  });
});

describe("transactions and the clock", () => {
  it("a share outcome for 1,000 devices is one commit, plus one per request acknowledged", async () => {
    const { alice } = await aliceAndBob();
    const store = alice.store as InMemoryStore;
    const devices = Array.from({ length: 1_000 }, (_, i) => ({
      ...alice.device,
      userId: `@u${i % 200}:example.org` as never,
      deviceId: `D${i}` as never,
      curve25519: `${String(i).padStart(4, "0")}${alice.device.curve25519.slice(4)}` as never,
    }));
    const before = store.commits;
    const report = await alice.kw.reportShareOutcomes(
      devices.map((device) => ({ device, outcome: "failed" as const })),
    );
    expect(report.requests.length).toBe(4);
    // One for the outcome and its four requests, then at most one per acknowledgement (acks that
    // land while a commit is running share the next one).
    const commits = store.commits - before;
    expect(commits).toBeGreaterThanOrEqual(2);
    expect(commits).toBeLessThanOrEqual(1 + report.requests.length);
    const stored = await store.load();
    expect(stored.requests).toEqual([]);
    const delivered = stored.peers.filter(([, record]) =>
      JSON.stringify(record).includes('"noticeDelivered"'),
    );
    expect(delivered).toHaveLength(1_000);
  });

  it("a wall clock set back across a restart does not shorten the one-hour rule", async () => {
    const { clock, alice, bob } = await aliceAndBob();
    await alice.shareRoomKey(ROOM, [bob.device]);
    await bob.sync();
    await bob.kw.flush();
    expect(leaves(bob, alice)).toBe("established/idle");
    const repliedAt = bob.stateOf(alice.device).context.lastReplyAt ?? 0;
    // Bob's process restarts with his wall clock two hours behind.
    clock.now -= 2 * HOUR;
    await bob.restart();
    clock.now += 10 * MINUTE;
    const answer = await bob.kw.handleToDeviceEvent(noOlmFrom(alice));
    expect(answer).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    expect(bob.stateOf(alice.device).context.lastNoticeReceivedAt).toBeGreaterThanOrEqual(
      repliedAt,
    );
  });
});

describe("retries without the client's help", () => {
  it("nextWakeAt is idle with nothing pending, due after a failure, and start() retries on its own", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { hs, clock, alice, bob } = await aliceAndBob();
    expect(alice.kw.nextWakeAt()).toEqual({ kind: "idle" });
    hs.failNext(alice.device, "sendToDevice", 2);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(alice.kw.nextWakeAt()).toMatchObject({ kind: "due", inMs: 2_000 });
    alice.kw.start();
    // The story's clock is data: it moves with the timers.
    clock.now += 2_000;
    await vi.advanceTimersByTimeAsync(2_000);
    // The second attempt failed too: the wait doubles.
    expect(hs.requestCount(alice.device, "sendToDevice")).toBe(2);
    expect(alice.kw.nextWakeAt()).toMatchObject({ kind: "due", inMs: 4_000 });
    clock.now += 4_000;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
    expect(alice.kw.nextWakeAt()).toEqual({ kind: "idle" });
    await alice.kw.stop();
    expect(leaves(alice, bob)).toBe("noticeDelivered/idle");
  });
});
