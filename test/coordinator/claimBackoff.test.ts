import { afterEach, describe, expect, it } from "vitest";
import type { EstablishOutcome } from "../../src/coordinator/keyWithholdingTypes.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";
import { LibolmBackend } from "../../src/olm/libolmBackend.js";
import { deliveredTo, MINUTE, makeWorld, type World } from "./worldFixture.js";

/*
 * R5 through the public API: establishSessions claims a device that had no key only once its
 * backoff is over, a dead homeserver is skipped whole, and the client's news of new keys ends a
 * backoff at once. Skipping is never a new failure: the one-notice rule is untouched.
 */

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
});

const outcomeOf = (outcomes: readonly EstablishOutcome[], device: PeerDevice) =>
  outcomes.find((o) => o.outcome !== "refused" && o.device.deviceId === device.deviceId);

function claimCounter(world: World, device: PeerDevice) {
  return () => world.hs.requestCount(device, "claimKeys");
}

describe("R5: a device out of keys is not claimed on every share", () => {
  it("claimed at once, skipped inside 15 s, claimed when the backoff ends; one m.no_olm in all", async () => {
    world = await makeWorld({ alice: 5, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const claims = claimCounter(world, alice.device);

    expect(outcomeOf(await alice.kw.establishSessions([bob.device]), bob.device)).toMatchObject({
      outcome: "failed",
    });
    expect(claims()).toBe(1);
    const failedAt = world.clock.now;

    world.clock.now += 10_000;
    const skipped = outcomeOf(await alice.kw.establishSessions([bob.device]), bob.device);
    expect(skipped).toMatchObject({ outcome: "backingOff", until: failedAt + 15_000 });
    expect(claims()).toBe(1);

    world.clock.now = failedAt + 15_000;
    expect(outcomeOf(await alice.kw.establishSessions([bob.device]), bob.device)).toMatchObject({
      outcome: "failed",
    });
    expect(claims()).toBe(2);
    // The second failure doubles the wait.
    world.clock.now += 20_000;
    expect(outcomeOf(await alice.kw.establishSessions([bob.device]), bob.device)).toMatchObject({
      outcome: "backingOff",
      until: failedAt + 15_000 + 30_000,
    });
    expect(deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId)).toHaveLength(1);
  });

  it("one /keys/claim per share still covers every device that is due", async () => {
    const w = await makeWorld({ alice: 5, bob: 0, carol: 0, dave: 3 });
    world = w;
    const [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map((n) => w.device(n));
    if (alice === undefined || bob === undefined || carol === undefined || dave === undefined) {
      throw new Error("world without its devices");
    }
    await alice.kw.establishSessions([bob.device]);
    const before = w.hs.requestCount(alice.device, "claimKeys");
    const outcomes = await alice.kw.establishSessions([bob.device, carol.device, dave.device]);
    expect(world.hs.requestCount(alice.device, "claimKeys")).toBe(before + 1);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["backingOff", "established", "failed"]);
  });

  it("the client's news of new keys ends the backoff: the next share reaches the device at once", async () => {
    world = await makeWorld({ alice: 5, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.kw.establishSessions([bob.device]);
    world.clock.now += MINUTE;
    await alice.kw.establishSessions([bob.device]); // second failure: 30 s
    world.clock.now += 5_000;
    bob.uploadOneTimeKeys(3);
    expect(await alice.kw.devicesChanged([bob.device])).toMatchObject({ refused: [] });
    const outcomes = await alice.kw.establishSessions([bob.device]);
    expect(outcomeOf(outcomes, bob.device)).toMatchObject({ outcome: "established" });
    // The episode ended with the session: the client hears the device is reachable again.
    expect(alice.stateOf(bob.device).context.claimFailures).toBe(0);
  });

  it("devicesChanged refuses what is not a device, and our own device, and acts on the rest", async () => {
    world = await makeWorld({ alice: 5, bob: 0 });
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    const report = await alice.kw.devicesChanged([
      { userId: "nobody" } as never,
      alice.device,
      bob.device,
    ]);
    expect(report.refused.map((r) => r.reason)).toEqual(["invalidArgument", "ownDevice"]);
    expect(report.requests).toEqual([]);
  });
});

describe("R5: a dead homeserver is skipped whole", () => {
  it("after one failed claim its devices are not named again until its backoff ends", async () => {
    world = await makeWorld({ alice: 5 });
    const alice = world.device("alice");
    const dead: PeerDevice[] = [];
    for (const name of ["erin", "frank", "grace"]) {
      const olm = await LibolmBackend.create({
        userId: `@${name}:dead.example` as UserId,
        deviceId: `${name.toUpperCase()}DEVICE` as DeviceId,
      });
      if (!olm.ok) throw new Error(olm.detail);
      const keys = olm.value.generateOneTimeKeys(2);
      if (!keys.ok) throw new Error(keys.detail);
      const up = world.hs.uploadKeys(olm.value.ownDevice.userId, olm.value.ownDevice.deviceId, {
        device_keys: olm.value.signedDeviceKeys(),
        one_time_keys: keys.value,
      });
      if (!up.ok) throw new Error(up.problems.join("; "));
      dead.push(olm.value.ownDevice);
      alice.directory.set(olm.value.ownDevice);
      olm.value.dispose();
    }
    world.hs.setServerDown("dead.example", true);
    const named: number[] = [];
    const claims = world.hs.requestCount(alice.device, "claimKeys");
    const first = await alice.kw.establishSessions(dead.slice(0, 2));
    expect(first.map((o) => o.outcome)).toEqual(["failed", "failed"]);
    named.push(world.hs.requestCount(alice.device, "claimKeys") - claims);
    // A device of that server not tried before is skipped too: the server is backing off.
    world.clock.now += 5_000;
    const second = await alice.kw.establishSessions(dead);
    expect(second.map((o) => o.outcome)).toEqual(["backingOff", "backingOff", "backingOff"]);
    expect(second[2]).toMatchObject({ detail: expect.stringContaining("homeserver") });
    named.push(world.hs.requestCount(alice.device, "claimKeys") - claims);
    expect(named).toEqual([1, 1]);
    // The server comes back: once its backoff is over, all three are claimed in one request.
    world.hs.setServerDown("dead.example", false);
    world.clock.now += 15_000;
    const third = await alice.kw.establishSessions(dead);
    expect(third.map((o) => o.outcome)).toEqual(["established", "established", "established"]);
    expect(world.hs.requestCount(alice.device, "claimKeys") - claims).toBe(2);
  });
});
