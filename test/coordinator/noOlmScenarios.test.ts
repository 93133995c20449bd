import { afterEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import type { SessionId } from "../../src/events/matrixIds.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import { specHomeserver } from "../support/specHomeserver.js";
import { deliveredTo, HOUR, MINUTE, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * The m.no_olm story end to end: every device has its own real libolm account, every message is
 * really encrypted and decrypted, and the only double is the homeserver, which checks every
 * request against the spec (`World.close` asserts its violations stay empty).
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const noOlm = (senderKey: string, extra: JsonObject = {}): JsonObject => ({
  algorithm: "m.megolm.v1.aes-sha2",
  sender_key: senderKey,
  code: "m.no_olm",
  ...extra,
});
const noticesTo = (w: World, userId: string) =>
  deliveredTo(w.hs, "m.room_key.withheld", userId).filter((m) => m.content.code === "m.no_olm");

describe("m.no_olm end to end with real libolm", () => {
  it("one notice per episode, an m.dummy answer, recovery, and a new notice in a new episode", async () => {
    world = await makeWorld({ alice: 5, bob: 0 });
    const { hs, clock } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];

    // Bob has no one-time keys: Alice's share fails, and Bob hears about it exactly once.
    const early = alice.encryptRoomMessage(ROOM, "sent while Bob was unreachable");
    const earlySentAt = clock.now;
    for (let attempt = 0; attempt < 11; attempt++) {
      clock.now += MINUTE;
      const [outcome] = await alice.shareRoomKey(ROOM, [bob.device]);
      // R5: after the first failure some shares skip the claim (backing off); none succeeds.
      expect(attempt === 0 ? ["failed"] : ["failed", "backingOff"]).toContain(outcome?.outcome);
    }
    const notices = noticesTo(world, bob.device.userId);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.content).toEqual({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: alice.device.curve25519,
      code: "m.no_olm",
      reason: "Unable to establish a secure channel.",
      from_device: "ALICEDEVICE",
    });
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("noticeDelivered");

    // Bob answers: claims one of Alice's keys and sends her a real Olm-encrypted m.dummy.
    clock.now += MINUTE;
    const [bobSees] = await bob.sync();
    expect(bobSees).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(hs.claims.map((c) => [c.claimer.userId, c.target.userId])).toEqual([
      [bob.device.userId, alice.device.userId],
    ]);
    const [dummy] = deliveredTo(hs, "m.room.encrypted", alice.device.userId);
    expect(dummy?.content.ciphertext).toHaveProperty([alice.device.curve25519, "type"], 0);
    // Bob can now explain Alice's earlier message.
    expect(
      bob.kw.explainUndecryptable({
        sender: alice.device.userId,
        senderKey: alice.device.curve25519,
        roomId: ROOM,
        sessionId: early.session_id as SessionId,
        originServerTs: earlySentAt,
      }),
    ).toEqual({
      kind: "explained",
      code: "m.no_olm",
      reason: "Unable to establish a secure channel.",
      source: "noOlmNotice",
    });

    // Alice decrypts the m.dummy; her machine for Bob ends the episode, and the recovery hook
    // re-shares the room key, which Bob decrypts and uses to read the early message.
    clock.now += MINUTE;
    const [aliceSees] = await alice.sync();
    expect(aliceSees).toMatchObject({ kind: "decrypted", type: "m.dummy", newSession: true });
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("established");
    clock.now += MINUTE;
    const [roomKey] = await bob.sync();
    expect(roomKey).toMatchObject({ kind: "decrypted", type: "m.room_key" });
    expect(bob.decryptRoomMessage(early)).toEqual({
      ok: true,
      body: "sent while Bob was unreachable",
    });

    // Later Alice must replace the session (it got corrupted) and Bob has no keys again:
    // a new episode, and exactly one new notice. The big SDKs never send this one.
    clock.now += 2 * HOUR;
    expect(alice.olm.forgetSessions(bob.device)).toBe(1);
    for (let attempt = 0; attempt < 5; attempt++) {
      const [outcome] = await alice.shareRoomKey(ROOM, [bob.device]);
      // R5: after the first failure some shares skip the claim (backing off); none succeeds.
      expect(attempt === 0 ? ["failed"] : ["failed", "backingOff"]).toContain(outcome?.outcome);
    }
    expect(noticesTo(world, bob.device.userId)).toHaveLength(2);
  });

  it("a forged notice (sender does not own sender_key) is rejected without a key claim", async () => {
    world = await makeWorld({ alice: 5, bob: 5, mallory: 5 });
    const { hs } = world;
    const [alice, bob, mallory] = ["alice", "bob", "mallory"].map((n) => world?.device(n)) as [
      SimulatedDevice,
      SimulatedDevice,
      SimulatedDevice,
    ];
    await mallory.sendRaw(
      "m.room_key.withheld",
      bob.device,
      noOlm(alice.device.curve25519, { reason: "trust me" }),
      "forged",
    );
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "rejected", reason: "senderDoesNotOwnKey" });
    expect(hs.claims).toEqual([]);
    expect(hs.oneTimeKeyCount(alice.device.userId, alice.device.deviceId)).toBe(5);
    expect(bob.stateOf(alice.device)).toEqual(bob.stateOf(mallory.device));
  });

  it("100 genuine notices within an hour create one new session", async () => {
    world = await makeWorld({ alice: 10, bob: 0 });
    const { hs, clock } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    for (let i = 0; i < 100; i++) {
      const content = noOlm(alice.device.curve25519, { from_device: alice.device.deviceId });
      await alice.sendRaw("m.room_key.withheld", bob.device, content, `notice.${i}`);
    }
    // Bob reads one notice every 30 s: all 100 within 50 minutes.
    const results = [];
    for (const event of hs.sync(bob.device.userId, bob.device.deviceId)) {
      clock.now += 30_000;
      results.push(await bob.kw.handleToDeviceEvent(event));
    }
    expect(results.filter((r) => r.kind === "noOlmNotice")).toHaveLength(100);
    expect(results.filter((r) => r.kind === "noOlmNotice" && r.reply !== "none")).toHaveLength(1);
    expect(hs.claims).toHaveLength(1);
    expect(deliveredTo(hs, "m.room.encrypted", alice.device.userId)).toHaveLength(1);
    expect(hs.oneTimeKeyCount(alice.device.userId, alice.device.deviceId)).toBe(9);
  });

  it("a failed reply claim sends no m.dummy (no empty ciphertext) and backs off", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const { hs, clock } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]); // fails: Bob has no keys → notice to Bob
    const claimsBefore = hs.claimsAnswered;
    const [first] = await bob.sync(); // Bob answers, but Alice has no keys either
    expect(first).toMatchObject({ kind: "noOlmNotice", reply: "failed" });
    expect(deliveredTo(hs, "m.room.encrypted", alice.device.userId)).toEqual([]);
    expect(noticesTo(world, alice.device.userId)).toEqual([]); // no ping-pong
    expect(peerLeaves(bob.stateOf(alice.device).value).reply).toBe("backingOff");
    expect(hs.claims).toHaveLength(0);
    expect(hs.claimsAnswered).toBe(claimsBefore + 1);

    // A notice inside the 15 s backoff claims nothing; after it, Bob claims again.
    const again = () =>
      bob.kw.handleToDeviceEvent({
        type: "m.room_key.withheld",
        sender: alice.device.userId,
        content: noOlm(alice.device.curve25519),
      });
    clock.now += 10_000;
    expect(await again()).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    expect(hs.claimsAnswered).toBe(claimsBefore + 1);
    clock.now += 5_000;
    alice.uploadOneTimeKeys(1);
    expect(await again()).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(hs.claimsAnswered).toBe(claimsBefore + 2);
    expect(deliveredTo(hs, "m.room.encrypted", alice.device.userId)).toHaveLength(1);
  });

  it("600 failing devices across many users: 3 requests, no user split", async () => {
    const hs = specHomeserver();
    const clock = { now: Date.UTC(2026, 10, 26, 9) };
    const make = (userId: string, deviceId: string, oneTimeKeys: number) =>
      SimulatedDevice.create({ hs, userId, deviceId, oneTimeKeys, clock: () => clock.now });
    const alice = await make("@alice:example.org", "ALICEDEVICE", 1);
    const users = Array.from({ length: 120 }, (_, u) => `@user${u}:example.org`);
    const peers: SimulatedDevice[] = [];
    for (const user of users) {
      for (let k = 0; k < 5; k++) peers.push(await make(user, `DEVICE${k}`, 0));
    }
    world = {
      hs,
      clock,
      device: () => alice,
      close: () => {
        expect(hs.violations).toEqual([]);
        for (const d of [alice, ...peers]) d.dispose();
      },
    };
    alice.refreshDevices(users);
    const sendsBefore = hs.requestCount(alice.device, "sendToDevice");
    const outcomes = await alice.shareRoomKey(
      ROOM,
      peers.map((p) => p.device),
    );
    expect(outcomes.filter((o) => o.outcome === "failed")).toHaveLength(600);
    expect(hs.requestCount(alice.device, "sendToDevice") - sendsBefore).toBe(3);
    const notices = hs.deliveries.filter((m) => m.eventType === "m.room_key.withheld");
    expect(notices).toHaveLength(600);
    for (const user of users) {
      const requests = new Set(
        notices.filter((m) => m.recipient.userId === user).map((m) => m.txnId),
      );
      expect(requests.size).toBe(1);
    }
  });
});
