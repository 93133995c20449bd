import { afterEach, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { deliveredTo, HOUR, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Defects 5, 9, 10 and 12 of the robustness review: concurrent shares, our own device, a
 * session the backend already holds, and a sender whose device list the client never loaded.
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

// The notice a device sends, built by the library's own builder.
const noOlmFrom = (from: PeerDevice) =>
  buildNoOlmNotice({ senderKey: from.curve25519, fromDevice: from.deviceId });

describe("defect 5: concurrent shares never notify a device we hold a session with", () => {
  it("two shares racing for the last one-time key: one session, no m.no_olm", async () => {
    world = await makeWorld({ alice: 0, bob: 1 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const [first, second] = await Promise.all([
      alice.shareRoomKey(ROOM, [bob.device]),
      alice.shareRoomKey(ROOM, [bob.device]),
    ]);
    const outcomes = [first?.[0]?.outcome, second?.[0]?.outcome].sort();
    expect(outcomes).toEqual(["established", "existing"]);
    expect(alice.olm.hasSession(bob.device)).toBe(true);
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("established");
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toEqual([]);
  });

  it("five racing shares, one key: still no notice", async () => {
    world = await makeWorld({ alice: 0, bob: 1 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const all = await Promise.all(
      Array.from({ length: 5 }, () => alice.shareRoomKey(ROOM, [bob.device])),
    );
    expect(all.flat().filter((o) => o.outcome === "failed")).toEqual([]);
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toEqual([]);
  });
});

describe("defect 9: our own device is refused, typed", () => {
  it("a notice naming our own user and key claims nothing and sends nothing", async () => {
    world = await makeWorld({ alice: 5, mallory: 0 });
    const [alice, mallory] = [world.device("alice"), world.device("mallory")];
    // Only a hostile homeserver can deliver this: the sender is rewritten to ourselves.
    await mallory.sendRaw("m.room_key.withheld", alice.device, noOlmFrom(alice.device), "self");
    const [event] = world.hs.sync(alice.device.userId, alice.device.deviceId);
    const result = await alice.kw.handleToDeviceEvent({ ...event, sender: alice.device.userId });
    expect(result).toMatchObject({ kind: "rejected", reason: "ownDevice" });
    expect(world.hs.claims).toEqual([]);
    expect(alice.olm.hasSession(alice.device)).toBe(false);
  });

  it("establishSessions([our own device]) is refused and claims nothing", async () => {
    world = await makeWorld({ alice: 5 });
    const alice = world.device("alice");
    const outcomes = await alice.kw.establishSessions([alice.device]);
    expect(outcomes).toEqual([
      { outcome: "refused", reason: "ownDevice", index: 0, path: [], detail: expect.any(String) },
    ]);
    expect(world.hs.claims).toEqual([]);
  });
});

describe("defect 10: the notice path uses a session the backend already holds", () => {
  it("after a restart, a notice is answered over the existing session: no claim, no new session", async () => {
    world = await makeWorld({ alice: 1, bob: 1 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await bob.shareRoomKey(ROOM, [alice.device]);
    expect(bob.olm.hasSession(alice.device)).toBe(true);
    const claimsBefore = world.hs.claims.length;
    // A new coordinator over a store that knows nothing about Alice, but the backend has a session.
    await bob.restart({ forgetStore: true });
    world.clock.now += 2 * HOUR;
    await alice.sendRaw("m.room_key.withheld", bob.device, noOlmFrom(alice.device), "n1");
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "noOlmNotice", reply: "existingSession" });
    expect(world.hs.claims.length).toBe(claimsBefore);
    expect(peerLeaves(bob.stateOf(alice.device).value).olm).toBe("established");
  });
});

describe("defect 12: a sender whose device list is not loaded is unknownSender, not a forgery", () => {
  it("an unknown user is unknownSender; after a refresh the same event is accepted", async () => {
    world = await makeWorld({ alice: 0, bob: 0, carol: 5 });
    const [bob, carol] = [world.device("bob"), world.device("carol")];
    bob.directory.forgetUser(carol.device.userId);
    await carol.sendRaw("m.room_key.withheld", bob.device, noOlmFrom(carol.device), "c1");
    const [event] = world.hs.sync(bob.device.userId, bob.device.deviceId);
    expect(await bob.kw.handleToDeviceEvent(event)).toMatchObject({
      kind: "rejected",
      reason: "unknownSender",
    });
    expect(world.hs.claims).toEqual([]);
    // The documented pattern: refresh the sender's device list, then feed the event again.
    bob.refreshDevices([carol.device.userId]);
    expect(await bob.kw.handleToDeviceEvent(event)).toMatchObject({ kind: "noOlmNotice" });
  });

  it("a known user without that key is still senderDoesNotOwnKey", async () => {
    world = await makeWorld({ alice: 0, bob: 0, mallory: 0 });
    const w = world;
    const [alice, bob, mallory] = [w.device("alice"), w.device("bob"), w.device("mallory")];
    await mallory.sendRaw("m.room_key.withheld", bob.device, noOlmFrom(alice.device), "m1");
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "rejected", reason: "senderDoesNotOwnKey" });
  });
});

describe("a session the client dropped is not answered over (crash study finding)", () => {
  it("after forgetSessions, the peer's m.no_olm is answered with a new session and one m.dummy", async () => {
    world = await makeWorld({ alice: 5, bob: 5 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("established");
    // Alice replaces a session she believes corrupted; her machine still says "established".
    alice.olm.forgetSessions(bob.device);
    const claims = world.hs.claims.length;
    const encrypted = deliveredTo(world.hs, "m.room.encrypted", bob.device.userId).length;
    await bob.sendRaw("m.room_key.withheld", alice.device, noOlmFrom(bob.device), "n1");
    const [result] = await alice.sync();
    expect(result).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(world.hs.claims.length).toBe(claims + 1);
    expect(deliveredTo(world.hs, "m.room.encrypted", bob.device.userId)).toHaveLength(
      encrypted + 1,
    );
    const got = await bob.sync();
    expect(got.at(-1)).toMatchObject({ kind: "decrypted", type: "m.dummy", newSession: true });
    expect(peerLeaves(alice.stateOf(bob.device).value)).toEqual({
      olm: "established",
      reply: "idle",
    });
    // The SESSION_LOST on the way was no failure: no m.no_olm went to Bob.
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(0);
  });
});
