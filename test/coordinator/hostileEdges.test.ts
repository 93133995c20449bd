import { afterEach, describe, expect, it } from "vitest";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import type { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import type { Transport } from "../../src/transport/transport.js";
import { deliveredTo, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Defects 2, 3, 13 and 14 of the robustness review: whatever a transport or an event does, every
 * command ends in an outcome, no promise rejects, a hung request blocks nothing else, and only
 * a result of exactly the documented shape counts as sent.
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

type Behaviour = "pass" | ((request: unknown) => unknown);

/** A transport layer whose calls can be switched, per endpoint, to something hostile. */
function switchable() {
  const mode: { claim: Behaviour; send: Behaviour } = { claim: "pass", send: "pass" };
  const wrap = (inner: Transport): Transport => ({
    claimKeys: (request) =>
      mode.claim === "pass" ? inner.claimKeys(request) : (mode.claim(request) as never),
    sendToDevice: (request) =>
      mode.send === "pass" ? inner.sendToDevice(request) : (mode.send(request) as never),
  });
  return { mode, wrap };
}

const never = () => new Promise<never>(() => {});
const replyOf = (bob: SimulatedDevice, alice: SimulatedDevice) =>
  peerLeaves(bob.stateOf(alice.device).value).reply;

/** Alice (no keys for Bob to be reached with) sends Bob one m.no_olm; Bob has a switchable transport. */
async function noticeToBob(callTimeoutMs = 50) {
  const edge = switchable();
  world = await makeWorld({ alice: 3, bob: 0 }, undefined, (name) =>
    name === "bob" ? { wrapTransport: edge.wrap, callTimeoutMs } : {},
  );
  const [alice, bob] = [world.device("alice"), world.device("bob")];
  await alice.shareRoomKey(ROOM, [bob.device]);
  const events = world.hs.sync(bob.device.userId, bob.device.deviceId);
  expect(events.map((e) => e.type)).toEqual(["m.room_key.withheld"]);
  return { edge, alice, bob, hs: world.hs, notice: events[0] };
}

describe("defect 2: a reply always ends, whatever the claim does", () => {
  const hostileClaims: [string, () => unknown][] = [
    [
      "throws an Error whose message is a number",
      () => {
        const error = new Error("x");
        Object.defineProperty(error, "message", { value: 42 });
        throw error;
      },
    ],
    [
      "throws an Error whose message getter throws",
      () => {
        throw Object.defineProperty(new Error("x"), "message", {
          get() {
            throw new Error("no");
          },
        });
      },
    ],
    ["resolves something that is not a Result", () => Promise.resolve(42)],
    ["resolves { ok: 1 }", () => Promise.resolve({ ok: 1, value: {} })],
    ["never settles", never],
    [
      "rejects with a revoked Proxy",
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return Promise.reject(proxy);
      },
    ],
  ];

  it.each(hostileClaims)(
    "a claimKeys that %s: the notice is answered 'failed' and the reply backs off",
    async (_, claim) => {
      const { edge, alice, bob, notice } = await noticeToBob();
      edge.mode.claim = claim;
      const result = await bob.kw.handleToDeviceEvent(notice);
      expect(result).toMatchObject({ kind: "noOlmNotice", reply: "failed" });
      expect(replyOf(bob, alice)).toBe("backingOff");
    },
  );

  it("a restart in the middle of a claim resumes the reply: one m.dummy, nothing stuck", async () => {
    const { edge, alice, bob, hs, notice } = await noticeToBob(10 * 60_000);
    edge.mode.claim = never;
    // The claim hangs; the process "dies" with the reply in flight.
    void bob.kw.handleToDeviceEvent(notice);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(replyOf(bob, alice)).toBe("newSession");
    edge.mode.claim = "pass";
    await bob.restart();
    // The next event about Alice (the notice, replayed by the server) finds the reply resumed.
    const result = await bob.kw.handleToDeviceEvent(notice);
    expect(result.kind).toBe("noOlmNotice");
    expect(replyOf(bob, alice)).toBe("idle");
    expect(peerLeaves(bob.stateOf(alice.device).value).olm).toBe("established");
    expect(deliveredTo(hs, "m.room.encrypted", alice.device.userId)).toHaveLength(1);
  });
});

describe("defect 3: no promise rejects, whatever the event is", () => {
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const throwingGetter = (value: object, key: string, thrown: unknown) =>
    Object.defineProperty(value, key, {
      enumerable: true,
      get() {
        throw thrown;
      },
    });
  const numericMessage = Object.defineProperty(new Error("x"), "message", { value: 7 });
  const events: [string, () => unknown][] = [
    ["a revoked Proxy", revoked],
    ["a throwing type getter", () => throwingGetter({}, "type", new Error("boom"))],
    [
      "a withheld event whose content getter throws an Error with a numeric message",
      () =>
        throwingGetter(
          { type: "m.room_key.withheld", sender: "@a:example.org" },
          "content",
          numericMessage,
        ),
    ],
    [
      "an encrypted event whose content is a revoked Proxy",
      () => ({ type: "m.room.encrypted", sender: "@a:example.org", content: revoked() }),
    ],
    [
      "a cycle",
      () => {
        const content: Record<string, unknown> = { algorithm: "m.megolm.v1.aes-sha2" };
        content.self = content;
        return { type: "m.room_key.withheld", sender: "@a:example.org", content };
      },
    ],
    [
      "a BigInt and a Symbol",
      () => ({ type: "m.room.encrypted", sender: 1n, content: Symbol("x") }),
    ],
  ];

  it.each(events)("%s is a typed rejection", async (_, make) => {
    world = await makeWorld({ bob: 0 });
    const bob = world.device("bob");
    const result = await bob.kw.handleToDeviceEvent(make());
    expect(["rejected", "notHandled"]).toContain(result.kind);
  });

  it("a sendToDevice that resolves undefined is a failed request, retried later", async () => {
    const edge = switchable();
    world = await makeWorld({ alice: 0, bob: 0 }, undefined, (name) =>
      name === "alice" ? { wrapTransport: edge.wrap } : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    edge.mode.send = () => Promise.resolve(undefined);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(alice.kw.pendingRequests).toBe(1);
    edge.mode.send = "pass";
    expect((await alice.kw.flush()).requests.map((r) => r.outcome)).toEqual(["sent"]);
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });
});

describe("defect 14: only { ok: true } counts as sent", () => {
  it.each([
    ["{ ok: 1 }", { ok: 1 }],
    ['{ ok: "yes" }', { ok: "yes" }],
    ["{ ok: {} }", { ok: {} }],
    ["{ ok: false } without a reason", { ok: false }],
  ])("a send resolving %s keeps the notice pending until a real send", async (_, resolved) => {
    const edge = switchable();
    world = await makeWorld({ alice: 0, bob: 0 }, undefined, (name) =>
      name === "alice" ? { wrapTransport: edge.wrap } : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    edge.mode.send = () => Promise.resolve(resolved);
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("noticePending");
    edge.mode.send = "pass";
    await alice.kw.flush();
    expect(peerLeaves(alice.stateOf(bob.device).value).olm).toBe("noticeDelivered");
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });
});

describe("defect 13: a hung request blocks nothing else", () => {
  it("while one sendToDevice never settles, flushes, shares and events go on", async () => {
    const edge = switchable();
    world = await makeWorld({ alice: 0, bob: 0, carol: 0, mallory: 0 }, undefined, (name) =>
      name === "alice" ? { wrapTransport: edge.wrap, callTimeoutMs: 10 * 60_000 } : {},
    );
    const w = world;
    const [alice, bob, carol, mallory] = [
      w.device("alice"),
      w.device("bob"),
      w.device("carol"),
      w.device("mallory"),
    ];
    let hung = 0;
    edge.mode.send = () => {
      hung += 1;
      edge.mode.send = "pass";
      return never();
    };
    void alice.shareRoomKey(ROOM, [bob.device]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hung).toBe(1);
    // Another share goes out at once, in its own request.
    const [toCarol] = await alice.shareRoomKey(ROOM, [carol.device]);
    expect(toCarol?.outcome).toBe("failed");
    expect(deliveredTo(world.hs, "m.room_key.withheld", carol.device.userId)).toHaveLength(1);
    // An incoming event (a forgery) is handled at once.
    await mallory.sendRaw(
      "m.room_key.withheld",
      alice.device,
      {
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: bob.device.curve25519,
        code: "m.no_olm",
        reason: "forged",
      },
      "forged",
    );
    const [forged] = await alice.sync();
    expect(forged).toMatchObject({ kind: "rejected", reason: "senderDoesNotOwnKey" });
    // A flush leaves the hung request alone and reports it as still pending.
    const report = await alice.kw.flush();
    expect(report.requests).toEqual([]);
    expect(report.stillPending).toBe(1);
  });

  it("a hung request times out as a failure and is retried with the same txnId", async () => {
    const edge = switchable();
    world = await makeWorld({ alice: 0, bob: 0 }, undefined, (name) =>
      name === "alice" ? { wrapTransport: edge.wrap, callTimeoutMs: 30 } : {},
    );
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const txnIds: string[] = [];
    edge.mode.send = (request) => {
      txnIds.push((request as { txnId: string }).txnId);
      edge.mode.send = "pass";
      return never();
    };
    await alice.shareRoomKey(ROOM, [bob.device]);
    expect(alice.kw.pendingRequests).toBe(1);
    const retry = await alice.kw.flush();
    expect(retry.requests.map((r) => [r.txnId, r.outcome])).toEqual([[txnIds[0], "sent"]]);
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });
});
