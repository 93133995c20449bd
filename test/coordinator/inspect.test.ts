import { describe, expect, it } from "vitest";
import type { InspectionEvent } from "xstate";
import { createKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import type { KeyWithholdingInspection } from "../../src/coordinator/peerInspection.js";
import { type PeerStateValue, peerLeaves } from "../../src/machine/peerSnapshot.js";
import { makeWorld } from "./worldFixture.js";

// The inspect option: XState's own inspection events for the devices picked, none for others,
// and an observer that throws cannot hurt the coordinator.
async function aliceWatching(inspect: KeyWithholdingInspection | unknown) {
  const world = await makeWorld({ alice: 0, bob: 0, carol: 0 });
  const [alice, bob, carol] = [world.device("alice"), world.device("bob"), world.device("carol")];
  const errors: string[] = [];
  const created = createKeyWithholding({
    olm: alice.olm,
    transport: world.hs.transportFor(alice.device.userId, alice.device.deviceId),
    devices: alice.directory,
    clock: () => world.clock.now,
    hooks: { onHookError: (_error, where) => errors.push(where) },
    inspect: inspect as KeyWithholdingInspection,
  });
  return { world, created, bob, carol, errors };
}

describe("inspect option", () => {
  it("gives XState inspection events for the picked device only, ending in the library's state", async () => {
    const events: InspectionEvent[] = [];
    let watched = "";
    const { world, created, bob, carol } = await aliceWatching({
      observer: (event: InspectionEvent) => events.push(event),
      devices: (device: { deviceId: string }) => device.deviceId === watched,
    });
    watched = bob.device.deviceId;
    try {
      if (!created.ok) throw new Error(created.detail);
      const kw = created.value;
      // Both have no one-time keys: each share fails, one m.no_olm each, acknowledged.
      await kw.establishSessions([bob.device, carol.device]);
      const types = new Set(events.map((event) => event.type));
      expect(types).toContain("@xstate.actor");
      expect(types).toContain("@xstate.event");
      expect(types).toContain("@xstate.snapshot");
      const sent = events.filter((e) => e.type === "@xstate.event").map((e) => e.event.type);
      expect(sent).toEqual(
        expect.arrayContaining(["CLAIM_REQUESTED", "CLAIM_FAILED", "NOTICE_SENT"]),
      );
      // Only Bob's machine was mirrored: every actor is his.
      const ids = new Set(events.map((event) => (event.actorRef as { id?: string }).id ?? ""));
      expect(ids.size).toBeGreaterThan(0);
      expect([...ids].every((id) => id.includes(JSON.stringify(bob.device.deviceId)))).toBe(true);
      // The mirrored actor ends where the library's own state is.
      const last = events.filter((e) => e.type === "@xstate.snapshot").at(-1);
      const state = kw.peerState(bob.device);
      if (!state.ok || last?.type !== "@xstate.snapshot") throw new Error("no state");
      const mirrored = last.snapshot as unknown as { value: PeerStateValue; context: unknown };
      expect(peerLeaves(mirrored.value)).toEqual(peerLeaves(state.value.value));
      expect(mirrored.context).toEqual(state.value.context);
    } finally {
      world.close();
    }
  });

  it("an observer that throws is reported, and the protocol goes on", async () => {
    const { world, created, bob, errors } = await aliceWatching({
      observer: () => {
        throw new Error("inspector down");
      },
    });
    try {
      if (!created.ok) throw new Error(created.detail);
      await created.value.establishSessions([bob.device]);
      expect(errors).toContain("inspect");
      const notices = world.hs.deliveries.filter((m) => m.content.code === "m.no_olm");
      expect(notices).toHaveLength(1);
    } finally {
      world.close();
    }
  });

  it("refuses an inspect option that is not { observer, devices? }", async () => {
    const { world, created } = await aliceWatching({ observer: "nope" });
    world.close();
    expect(created.ok).toBe(false);
    if (!created.ok) expect(created.path).toEqual(["inspect"]);
  });
});
