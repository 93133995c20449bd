import { afterEach, describe, expect, it } from "vitest";
import { createKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import { deliveredTo, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Defect 11 of the robustness review: TypeScript's types vanish at run time, so every public
 * method reads its arguments itself. What is not of the documented shape is refused (typed) and
 * nothing goes on the wire for it.
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

// What untyped JS can pass: typed as never here so the calls compile.
const untyped = <T>(value: T): never => value as never;

describe("defect 11: arguments are checked at run time", () => {
  it("withholdSessions refuses m.no_olm and m.history_not_shared, and puts nothing on the wire", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const report = await alice.kw.withholdSessions(
      untyped([
        { device: bob.device, code: "m.no_olm", roomId: ROOM, sessionId: "S1" },
        { device: bob.device, code: "m.history_not_shared", roomId: ROOM, sessionId: "S2" },
        { device: bob.device, code: "m.unverified", roomId: "not a room", sessionId: "S3" },
        {
          device: { ...bob.device, curve25519: "short" },
          code: "m.unverified",
          roomId: ROOM,
          sessionId: "S4",
        },
        { device: bob.device, code: "m.unverified", roomId: ROOM, sessionId: "S5" },
      ]),
    );
    expect(report.refused.map((r) => [r.index, r.reason, r.path.at(-1)])).toEqual([
      [0, "invalidArgument", "code"],
      [1, "invalidArgument", "code"],
      [2, "invalidArgument", "roomId"],
      [3, "invalidArgument", "curve25519"],
    ]);
    const sent = deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId);
    expect(sent.map((m) => (m.content as { code: string }).code)).toEqual(["m.unverified"]);
  });

  it.each([
    ["not an array", () => "devices"],
    [
      "a revoked Proxy",
      () => {
        const { proxy, revoke } = Proxy.revocable([], {});
        revoke();
        return proxy;
      },
    ],
    [
      "an array claiming a huge length",
      () => {
        const list: unknown[] = [];
        list.length = 2 ** 31;
        return list;
      },
    ],
  ])("establishSessions with %s is one refusal and claims nothing", async (_, make) => {
    world = await makeWorld({ alice: 0 });
    const alice = world.device("alice");
    const outcomes = await alice.kw.establishSessions(untyped(make()));
    expect(outcomes).toEqual([
      {
        outcome: "refused",
        reason: "invalidArgument",
        path: ["devices"],
        detail: expect.any(String),
      },
    ]);
    expect(world.hs.claims).toEqual([]);
  });

  it("reportShareOutcomes refuses a bad outcome and a device with a throwing getter", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const throwing = Object.defineProperty({ ...bob.device }, "userId", {
      get() {
        throw new Error("trap");
      },
    });
    const report = await alice.kw.reportShareOutcomes(
      untyped([
        { device: bob.device, outcome: "maybe" },
        { device: throwing, outcome: "failed" },
      ]),
    );
    expect(report.refused.map((r) => r.index)).toEqual([0, 1]);
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toEqual([]);
  });

  it("explainUndecryptable and peerState refuse malformed queries", async () => {
    world = await makeWorld({ alice: 0 });
    const alice = world.device("alice");
    expect(alice.kw.explainUndecryptable(untyped({ sender: "nobody" }))).toMatchObject({
      kind: "refused",
      reason: "invalidArgument",
      path: ["query", "sender"],
    });
    expect(alice.kw.peerState(untyped(null))).toMatchObject({
      ok: false,
      reason: "invalidArgument",
    });
  });

  it("createKeyWithholding refuses options of the wrong shape", async () => {
    world = await makeWorld({ alice: 0 });
    const alice = world.device("alice");
    const base = {
      olm: alice.olm,
      transport: { sendToDevice: () => {}, claimKeys: () => {} },
      devices: alice.directory,
    };
    expect(createKeyWithholding(untyped(undefined))).toMatchObject({
      ok: false,
      reason: "invalidOptions",
    });
    expect(createKeyWithholding(untyped({ ...base, transport: {} }))).toMatchObject({
      ok: false,
      path: ["transport"],
    });
    expect(createKeyWithholding(untyped({ ...base, callTimeoutMs: -1 }))).toMatchObject({
      ok: false,
      path: ["callTimeoutMs"],
    });
    expect(createKeyWithholding(untyped({ ...base, hooks: { onPeerReachable: 3 } }))).toMatchObject(
      {
        ok: false,
        path: ["hooks", "onPeerReachable"],
      },
    );
    expect(createKeyWithholding(untyped(base)).ok).toBe(true);
  });
});
