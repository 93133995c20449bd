import { fc, test } from "@fast-check/vitest";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import type { SessionId } from "../../src/events/matrixIds.js";
import { initialPeerSnapshot, peerLeaves } from "../../src/machine/peerSnapshot.js";
import type { Transport } from "../../src/transport/transport.js";
import { deliveredTo, MINUTE, makeWorld, ROOM, type World } from "./worldFixture.js";

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const olmState = (w: World, of: string, peer: string) =>
  peerLeaves(w.device(of).stateOf(w.device(peer).device).value).olm;

describe("sending notices over a failing transport (N3)", () => {
  it("a failed send is retried on the next flush with the same txnId, then delivered", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const { hs } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toEqual([]);
    expect(olmState(world, "alice", "bob")).toBe("noticePending");
    expect(alice.kw.pendingRequests).toBe(1);

    const report = await alice.kw.flush();
    expect(report.requests).toHaveLength(1);
    expect(report.requests[0]?.outcome).toBe("sent");
    const delivered = deliveredTo(hs, "m.room_key.withheld", bob.device.userId);
    expect(delivered.map((m) => m.txnId)).toEqual([report.requests[0]?.txnId]);
    expect(olmState(world, "alice", "bob")).toBe("noticeDelivered");
    expect(alice.kw.pendingRequests).toBe(0);
  });

  it("a lost response is retried with the same txnId and the notice arrives once", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const { hs } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    hs.loseNextResponses(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    await alice.kw.flush();
    await alice.kw.flush();
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
    expect(hs.requestCount(alice.device, "sendToDevice")).toBe(2);
    expect(olmState(world, "alice", "bob")).toBe("noticeDelivered");
  });

  it("a notice whose episode ended before its retry is dropped, not sent", async () => {
    world = await makeWorld({ alice: 3, bob: 0 });
    const { hs } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(olmState(world, "alice", "bob")).toBe("noticePending");
    // Bob reaches Alice on his own: his pre-key message ends Alice's episode.
    await bob.shareRoomKey(ROOM, [alice.device]);
    const [fromBob] = await alice.sync();
    expect(fromBob).toMatchObject({ kind: "decrypted", type: "m.room_key", newSession: true });
    expect(olmState(world, "alice", "bob")).toBe("established");
    await alice.kw.flush();
    expect(alice.kw.pendingRequests).toBe(0);
    expect(deliveredTo(hs, "m.room_key.withheld", bob.device.userId)).toEqual([]);
  });

  it("a transport that throws is a failed request, never a crash", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const throwing: Transport = {
      sendToDevice: () => Promise.reject(new Error("socket closed")),
      claimKeys: () => {
        throw new Error("boom");
      },
    };
    const created = createKeyWithholding({
      olm: alice.olm,
      transport: throwing,
      devices: alice.directory,
    });
    if (!created.ok) throw new Error(created.detail);
    const kw = created.value;
    const [outcome] = await kw.establishSessions([bob.device]);
    expect(outcome).toMatchObject({ outcome: "failed", detail: expect.stringContaining("boom") });
    expect(kw.pendingRequests).toBe(1);
    expect((await kw.flush()).requests[0]?.outcome).toBe("failed");
  });
});

describe("per-session notices", () => {
  it("at most one per device and megolm session", async () => {
    world = await makeWorld({ alice: 1, bob: 1 });
    const { hs } = world;
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const ask = (sessionId: string) => ({
      device: bob.device,
      code: "m.unverified" as const,
      roomId: ROOM,
      sessionId: sessionId as SessionId,
    });
    await alice.kw.withholdSessions([ask("S1"), ask("S1")]);
    await alice.kw.withholdSessions([ask("S1"), ask("S2")]);
    const delivered = deliveredTo(hs, "m.room_key.withheld", bob.device.userId);
    expect(delivered.map((m) => m.content.session_id)).toEqual(["S1", "S2"]);
    expect(delivered[0]?.content).toMatchObject({
      code: "m.unverified",
      room_id: ROOM,
      from_device: "ALICEDEVICE",
    });
  });
});

describe("explaining undecryptable events", () => {
  it("a specific code beats m.no_olm, which beats m.unavailable", async () => {
    world = await makeWorld({ alice: 0, bob: 0, carol: 0 });
    const [alice, bob, carol] = [world.device("alice"), world.device("bob"), world.device("carol")];
    const query = (sessionId: string, originServerTs: number) => ({
      sender: alice.device.userId,
      senderKey: alice.device.curve25519,
      roomId: ROOM,
      sessionId: sessionId as SessionId,
      originServerTs,
    });
    const t0 = world.clock.now;
    expect(bob.kw.explainUndecryptable(query("S1", t0))).toEqual({ kind: "unexplained" });

    // Carol answers a key request for S1 and S2 with m.unavailable.
    await carol.kw.withholdSessions(
      ["S1", "S2"].map((s) => ({
        device: bob.device,
        code: "m.unavailable" as const,
        roomId: ROOM,
        sessionId: s as SessionId,
      })),
    );
    await bob.sync();
    expect(bob.kw.explainUndecryptable(query("S2", t0))).toMatchObject({ code: "m.unavailable" });

    // Alice (the sender) withheld S1 as unverified: that wins over Carol's m.unavailable.
    await alice.kw.withholdSessions([
      { device: bob.device, code: "m.unverified", roomId: ROOM, sessionId: "S1" as SessionId },
    ]);
    await bob.sync();
    expect(bob.kw.explainUndecryptable(query("S1", t0))).toEqual({
      kind: "explained",
      code: "m.unverified",
      reason: expect.any(String),
      source: "sessionNotice",
    });

    // Alice's m.no_olm explains S2 for events sent before it arrived, not after.
    world.clock.now += MINUTE;
    await alice.shareRoomKey(ROOM, [bob.device]);
    await bob.sync();
    expect(bob.kw.explainUndecryptable(query("S2", t0))).toMatchObject({
      code: "m.no_olm",
      source: "noOlmNotice",
    });
    expect(bob.kw.explainUndecryptable(query("S2", world.clock.now + 1))).toMatchObject({
      code: "m.unavailable",
    });
    expect(bob.kw.explainUndecryptable(query("S1", t0))).toMatchObject({ code: "m.unverified" });
  });

  it("a per-session notice from a device that does not own the key is rejected", async () => {
    world = await makeWorld({ alice: 0, bob: 0, mallory: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const result = await bob.kw.handleToDeviceEvent({
      type: "m.room_key.withheld",
      sender: "@mallory:example.org",
      content: {
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: alice.device.curve25519,
        code: "m.blacklisted",
        room_id: ROOM,
        session_id: "S1",
      },
    });
    expect(result).toMatchObject({ kind: "rejected", reason: "senderDoesNotOwnKey" });
    const query = {
      sender: alice.device.userId,
      senderKey: alice.device.curve25519,
      roomId: ROOM,
      sessionId: "S1" as SessionId,
      originServerTs: 0,
    };
    expect(bob.kw.explainUndecryptable(query)).toEqual({ kind: "unexplained" });
  });
});

describe("incoming events that must change nothing", () => {
  it("from_device naming another device is rejected", async () => {
    world = await makeWorld({ alice: 1, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const result = await bob.kw.handleToDeviceEvent({
      type: "m.room_key.withheld",
      sender: alice.device.userId,
      content: {
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: alice.device.curve25519,
        code: "m.no_olm",
        from_device: "OTHER",
      },
    });
    expect(result).toMatchObject({ kind: "rejected", reason: "fromDeviceMismatch" });
    expect(bob.stateOf(alice.device)).toBe(initialPeerSnapshot);
    expect(world.hs.claimsAnswered).toBe(0);
  });

  describe("junk", () => {
    // One world for all runs: junk must never touch it.
    const shared = makeWorld({ alice: 2, bob: 2 });
    const aliceKey = shared.then((w) => w.device("alice").device.curve25519);
    const junkArb = fc.oneof(
      fc.anything(),
      fc.record({
        type: fc.constantFrom("m.room_key.withheld", "m.room.encrypted"),
        sender: fc.anything(),
        content: fc.anything(),
      }),
      fc.record({
        type: fc.constant("m.room_key.withheld"),
        sender: fc.constantFrom("@alice:example.org", "@mallory:example.org", "alice"),
        content: fc.record(
          {
            algorithm: fc.constantFrom("m.megolm.v1.aes-sha2", "x"),
            code: fc.constantFrom("m.no_olm", "m.unverified", 7),
            sender_key: fc.string(),
          },
          { requiredKeys: [] },
        ),
      }),
      fc.record({
        type: fc.constant("m.room.encrypted"),
        sender: fc.constant("@alice:example.org"),
        content: fc.record(
          {
            algorithm: fc.constant("m.olm.v1.curve25519-aes-sha2"),
            sender_key: fc.constant("__alice__"),
            ciphertext: fc.anything(),
          },
          { requiredKeys: [] },
        ),
      }),
    );

    afterAll(async () => (await shared).close());

    test.prop([fc.anything()], { numRuns: 300 })(
      "raw values of any kind are refused or ignored",
      async (junk) => {
        const w = await shared;
        const result = await w.device("bob").kw.handleToDeviceEvent(junk);
        expect(["rejected", "notHandled"]).toContain(result.kind);
      },
    );

    test.prop([junkArb], { numRuns: 300 })(
      "never throws, sends nothing, claims nothing, changes no peer",
      async (junk) => {
        const w = await shared;
        const key = await aliceKey;
        const input = JSON.parse(
          JSON.stringify(junk ?? null).replaceAll("__alice__", key) ?? "null",
        );
        const [alice, bob] = [w.device("alice"), w.device("bob")];
        const before = { deliveries: w.hs.deliveries.length, claims: w.hs.claimsAnswered };
        const result = await bob.kw.handleToDeviceEvent(input);
        expect(["rejected", "notHandled"]).toContain(result.kind);
        expect(bob.stateOf(alice.device)).toBe(initialPeerSnapshot);
        expect(w.hs.deliveries.length).toBe(before.deliveries);
        expect(w.hs.claimsAnswered).toBe(before.claims);
      },
    );
  });
});

describe("hooks and peers", () => {
  it("a throwing hook is reported to onHookError and changes nothing else", async () => {
    const onHookError = vi.fn();
    world = await makeWorld({ alice: 2, bob: 0 }, (name) =>
      name === "bob"
        ? {
            onRepliedToNotice: () => {
              throw new Error("client bug");
            },
            onHookError,
          }
        : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    const [result] = await bob.sync();
    expect(result).toMatchObject({ kind: "noOlmNotice", reply: "newSession" });
    expect(onHookError).toHaveBeenCalledWith(
      expect.objectContaining({ message: "client bug" }),
      "onRepliedToNotice",
    );
    expect(deliveredTo(world.hs, "m.room.encrypted", alice.device.userId)).toHaveLength(1);
  });

  it("a session the backend already has ends the episode the next time keys are shared", async () => {
    const reachable = vi.fn();
    world = await makeWorld({ alice: 0, bob: 0 }, (name) =>
      name === "alice" ? { onPeerReachable: reachable } : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(olmState(world, "alice", "bob")).toBe("noticeDelivered");
    // The crypto layer sets up a session without going through the library.
    bob.uploadOneTimeKeys(1);
    const claimed = await world.hs.transportFor("@alice:example.org", "ALICEDEVICE").claimKeys({
      one_time_keys: { [bob.device.userId]: { [bob.device.deviceId]: "signed_curve25519" } },
    });
    const keys = claimed.ok
      ? (claimed.value as {
          one_time_keys: Record<string, Record<string, Record<string, unknown>>>;
        })
      : undefined;
    const [keyId, keyObject] =
      Object.entries(keys?.one_time_keys[bob.device.userId]?.[bob.device.deviceId] ?? {})[0] ?? [];
    expect(
      alice.olm.createOutboundSession(bob.device, {
        keyId: String(keyId),
        keyObject: keyObject as never,
      }).ok,
    ).toBe(true);
    const [outcome] = await alice.kw.establishSessions([bob.device]);
    expect(outcome?.outcome).toBe("existing");
    expect(olmState(world, "alice", "bob")).toBe("established");
    expect(reachable).toHaveBeenCalledTimes(1);
  });

  it("a device re-created with new keys is a new peer with a fresh machine", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(olmState(world, "alice", "bob")).toBe("noticeDelivered");
    const recreated = { ...bob.device, curve25519: alice.device.curve25519 };
    expect(alice.stateOf(recreated)).toBe(initialPeerSnapshot);
  });
});
