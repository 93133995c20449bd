import { afterEach, describe, expect, it } from "vitest";
import type { RoomId } from "../../src/events/matrixIds.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { InMemoryHomeserver } from "../support/homeserver/index.js";
import { SimulatedDevice } from "../support/simulatedDevice.js";

/*
 * The m.no_olm story end to end: every device has its own real libolm account, every message is
 * really encrypted and decrypted, and the only double is the homeserver, which checks every
 * request against the spec (its `violations` must stay empty).
 */

const ROOM = "!room:example.org" as RoomId;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface World {
  hs: InMemoryHomeserver;
  clock: { now: number };
  devices: SimulatedDevice[];
}

let world: World | undefined;

async function setUp(
  spec: Record<string, number>,
): Promise<World & { d: Record<string, SimulatedDevice> }> {
  const hs = new InMemoryHomeserver();
  const clock = { now: Date.UTC(2026, 10, 26, 9) };
  const d: Record<string, SimulatedDevice> = {};
  for (const [name, oneTimeKeys] of Object.entries(spec)) {
    d[name] = await SimulatedDevice.create({
      hs,
      userId: `@${name}:example.org`,
      deviceId: `${name.toUpperCase()}DEVICE`,
      oneTimeKeys,
      clock: () => clock.now,
    });
  }
  const users = Object.keys(spec).map((name) => `@${name}:example.org`);
  for (const device of Object.values(d)) device.refreshDevices(users);
  world = { hs, clock, devices: Object.values(d) };
  return { ...world, d };
}

afterEach(() => {
  if (world === undefined) return;
  expect(world.hs.violations).toEqual([]);
  for (const device of world.devices) device.dispose();
  world = undefined;
});

const withheldTo = (hs: InMemoryHomeserver, userId: string, code = "m.no_olm") =>
  hs.deliveries.filter(
    (m) =>
      m.eventType === "m.room_key.withheld" &&
      m.recipient.userId === userId &&
      m.content.code === code,
  );
const encryptedTo = (hs: InMemoryHomeserver, userId: string) =>
  hs.deliveries.filter((m) => m.eventType === "m.room.encrypted" && m.recipient.userId === userId);

function pick(d: Record<string, SimulatedDevice>, name: string): SimulatedDevice {
  const device = d[name];
  if (device === undefined) throw new Error(`no device ${name}`);
  return device;
}

describe("m.no_olm end to end with real libolm", () => {
  it("one notice per episode, an m.dummy answer, recovery, and a new notice in a new episode", async () => {
    const { hs, clock, d } = await setUp({ alice: 5, bob: 0 });
    const alice = pick(d, "alice");
    const bob = pick(d, "bob");

    // Bob has no one-time keys: Alice's share fails, and Bob hears about it exactly once.
    const early = alice.encryptRoomMessage(ROOM, "sent while Bob was unreachable");
    const earlySentAt = clock.now;
    for (let attempt = 0; attempt < 11; attempt++) {
      clock.now += MINUTE;
      const [outcome] = await alice.shareRoomKey(ROOM, [bob.device]);
      expect(outcome?.outcome).toBe("failed");
    }
    const [notice] = withheldTo(hs, "@bob:example.org");
    expect(withheldTo(hs, "@bob:example.org")).toHaveLength(1);
    expect(notice?.content).toEqual({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: alice.device.curve25519,
      code: "m.no_olm",
      reason: "Unable to establish a secure channel.",
      from_device: "ALICEDEVICE",
    });
    expect(peerLeaves(alice.kw.peerState(bob.device).value).olm).toBe("noticeDelivered");

    // Bob answers: claims one of Alice's keys and sends her a real Olm-encrypted m.dummy.
    clock.now += MINUTE;
    const [bobSees] = await bob.sync();
    expect(bobSees).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(hs.claims.map((c) => [c.claimer.userId, c.target.userId])).toEqual([
      ["@bob:example.org", "@alice:example.org"],
    ]);
    const [dummy] = encryptedTo(hs, "@alice:example.org");
    expect(dummy?.content.ciphertext).toHaveProperty([alice.device.curve25519, "type"], 0);
    // Bob can now explain Alice's earlier message.
    expect(
      bob.kw.explainUndecryptable({
        sender: alice.device.userId,
        senderKey: alice.device.curve25519,
        roomId: ROOM,
        sessionId: early.session_id as never,
        originServerTs: earlySentAt,
      }),
    ).toEqual({
      code: "m.no_olm",
      reason: "Unable to establish a secure channel.",
      source: "noOlmNotice",
    });

    // Alice decrypts the m.dummy; her machine for Bob ends the episode, and the recovery hook
    // re-shares the room key, which Bob decrypts and uses to read the early message.
    clock.now += MINUTE;
    const [aliceSees] = await alice.sync();
    expect(aliceSees).toMatchObject({ kind: "decrypted", type: "m.dummy", newSession: true });
    expect(peerLeaves(alice.kw.peerState(bob.device).value).olm).toBe("established");
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
      expect(outcome?.outcome).toBe("failed");
    }
    expect(withheldTo(hs, "@bob:example.org")).toHaveLength(2);
  });

  it("a forged notice (sender does not own sender_key) is rejected without a key claim", async () => {
    const { hs, d } = await setUp({ alice: 5, bob: 5, mallory: 5 });
    const mallory = pick(d, "mallory");
    const bob = pick(d, "bob");
    const alice = pick(d, "alice");
    await hs.transportFor("@mallory:example.org", "MALLORYDEVICE").sendToDevice({
      eventType: "m.room_key.withheld",
      txnId: "forged",
      body: {
        messages: {
          [bob.device.userId]: {
            [bob.device.deviceId]: {
              algorithm: "m.megolm.v1.aes-sha2",
              sender_key: alice.device.curve25519,
              code: "m.no_olm",
              reason: "trust me",
            },
          },
        } as never,
      },
    });
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "rejected", reason: "senderDoesNotOwnKey" });
    expect(hs.claims).toEqual([]);
    expect(hs.oneTimeKeyCount(alice.device.userId, alice.device.deviceId)).toBe(5);
    expect(bob.kw.peerState(alice.device)).toEqual(bob.kw.peerState(mallory.device));
  });

  it("100 genuine notices within an hour create one new session", async () => {
    const { hs, clock, d } = await setUp({ alice: 10, bob: 0 });
    const alice = pick(d, "alice");
    const bob = pick(d, "bob");
    const aliceTransport = hs.transportFor("@alice:example.org", "ALICEDEVICE");
    for (let i = 0; i < 100; i++) {
      await aliceTransport.sendToDevice({
        eventType: "m.room_key.withheld",
        txnId: `notice.${i}`,
        body: {
          messages: {
            [bob.device.userId]: {
              [bob.device.deviceId]: {
                algorithm: "m.megolm.v1.aes-sha2",
                sender_key: alice.device.curve25519,
                code: "m.no_olm",
                from_device: alice.device.deviceId,
              },
            },
          } as never,
        },
      });
    }
    const results = [];
    // One notice every 30 s: all 100 arrive within 50 minutes.
    for (const event of hs.sync(bob.device.userId, bob.device.deviceId)) {
      clock.now += 30_000;
      results.push(await bob.kw.handleToDeviceEvent(event));
    }
    expect(results.filter((r) => r.kind === "noOlmNotice")).toHaveLength(100);
    expect(results.filter((r) => r.kind === "noOlmNotice" && r.reply !== "none")).toHaveLength(1);
    expect(hs.claims).toHaveLength(1);
    expect(encryptedTo(hs, "@alice:example.org")).toHaveLength(1);
    expect(hs.oneTimeKeyCount(alice.device.userId, alice.device.deviceId)).toBe(9);
  });

  it("a failed reply claim sends no m.dummy (no empty ciphertext) and backs off", async () => {
    const { hs, clock, d } = await setUp({ alice: 0, bob: 0 });
    const alice = pick(d, "alice");
    const bob = pick(d, "bob");
    await alice.shareRoomKey(ROOM, [bob.device]); // fails: Bob has no keys → notice to Bob
    const claimsBefore = hs.claimsAnswered;
    const [first] = await bob.sync(); // Bob answers, but Alice has no keys either
    expect(first).toMatchObject({ kind: "noOlmNotice", reply: "failed" });
    expect(encryptedTo(hs, "@alice:example.org")).toEqual([]);
    expect(withheldTo(hs, "@alice:example.org")).toEqual([]); // no ping-pong
    expect(peerLeaves(bob.kw.peerState(alice.device).value).reply).toBe("backingOff");
    expect(hs.claims).toHaveLength(0);
    expect(hs.claimsAnswered).toBe(claimsBefore + 1);

    // A notice inside the 15 s backoff claims nothing; after it, Bob claims again.
    const again = () =>
      bob.kw.handleToDeviceEvent({
        type: "m.room_key.withheld",
        sender: alice.device.userId,
        content: {
          algorithm: "m.megolm.v1.aes-sha2",
          sender_key: alice.device.curve25519,
          code: "m.no_olm",
        },
      });
    clock.now += 10_000;
    expect(await again()).toMatchObject({ kind: "noOlmNotice", reply: "none" });
    expect(hs.claimsAnswered).toBe(claimsBefore + 1);
    clock.now += 5_000;
    alice.uploadOneTimeKeys(1);
    expect(await again()).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(hs.claimsAnswered).toBe(claimsBefore + 2);
    expect(encryptedTo(hs, "@alice:example.org")).toHaveLength(1);
  });

  it("600 failing devices across many users: 3 requests, no user split", async () => {
    const hs = new InMemoryHomeserver();
    const clock = { now: Date.UTC(2026, 10, 26, 9) };
    const alice = await SimulatedDevice.create({
      hs,
      userId: "@alice:example.org",
      deviceId: "ALICEDEVICE",
      oneTimeKeys: 1,
      clock: () => clock.now,
    });
    const peers: SimulatedDevice[] = [];
    const users: string[] = [];
    for (let u = 0; u < 120; u++) {
      users.push(`@user${u}:example.org`);
      for (let k = 0; k < 5; k++) {
        peers.push(
          await SimulatedDevice.create({
            hs,
            userId: `@user${u}:example.org`,
            deviceId: `DEVICE${k}`,
            oneTimeKeys: 0,
            clock: () => clock.now,
          }),
        );
      }
    }
    world = { hs, clock, devices: [alice, ...peers] };
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
      expect(
        new Set(notices.filter((m) => m.recipient.userId === user).map((m) => m.txnId)).size,
      ).toBe(1);
    }
  });
});
