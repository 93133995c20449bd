import { afterEach, describe, expect, it } from "vitest";
import { openKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import type { JsonObject } from "../../src/events/json.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import type {
  KeyWithholdingStore,
  StoreChanges,
  StoredOlmState,
  StoredState,
} from "../../src/store/keyWithholdingStore.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import { specHomeserver } from "../support/specHomeserver.js";

/*
 * Counterexamples from a second robustness harness (fuzzing of public arguments and of edge
 * results: a store whose load answers garbage or whose commit fails, a transport whose results are
 * faked), reduced by hand to the smallest scenario that shows each. Each fails until src is
 * fixed. The shrunk fast-check counterexamples are quoted in the comments.
 */

const T0 = Date.UTC(2026, 10, 26, 9);

interface Setup {
  readonly hs: InMemoryHomeserver;
  readonly clock: { now: number };
  readonly alice: SimulatedDevice;
  readonly bob: SimulatedDevice;
  readonly carol: SimulatedDevice;
  readonly store: SwitchableStore;
}

/** An in-memory store whose load can answer garbage and whose commits can fail, on demand. */
class SwitchableStore implements KeyWithholdingStore {
  readonly inner = new InMemoryStore();
  garbage = false;
  failCommits: readonly number[] = [];
  commits = 0;

  loadOlm(): Promise<StoredOlmState | undefined> {
    return this.inner.loadOlm();
  }

  load(): Promise<StoredState> {
    return this.garbage ? Promise.resolve("garbage" as never) : this.inner.load();
  }

  async commit(changes: StoreChanges): Promise<void> {
    this.commits += 1;
    if (this.failCommits.includes(this.commits)) throw new Error("disk full");
    await this.inner.commit(changes);
  }
}

let setup: Setup | undefined;
afterEach(() => {
  for (const d of [setup?.alice, setup?.bob, setup?.carol]) d?.dispose();
  setup = undefined;
});

/** Alice (the device under test, with a switchable store), Bob and Carol, 5 keys each. */
async function makeSetup(): Promise<Setup> {
  const hs = specHomeserver();
  const clock = { now: T0 };
  const store = new SwitchableStore();
  const make = (name: string, withStore: boolean) =>
    SimulatedDevice.create({
      hs,
      userId: `@${name}:example.org`,
      deviceId: `${name.toUpperCase()}DEVICE`,
      oneTimeKeys: 5,
      clock: () => clock.now,
      ...(withStore ? { store } : {}),
    });
  const alice = await make("alice", true);
  const bob = await make("bob", false);
  const carol = await make("carol", false);
  const users = ["@alice:example.org", "@bob:example.org", "@carol:example.org"];
  for (const d of [alice, bob, carol]) d.refreshDevices(users);
  setup = { hs, clock, alice, bob, carol, store };
  return setup;
}

const withheldDeliveredTo = (s: Setup, to: PeerDevice) =>
  s.hs.deliveries.filter(
    (d) =>
      d.eventType === "m.room_key.withheld" &&
      d.sender.userId === s.alice.device.userId &&
      d.recipient.userId === to.userId &&
      d.recipient.deviceId === to.deviceId,
  ).length;

const leaves = (s: Setup, peer: PeerDevice) => {
  const { olm, reply } = peerLeaves(s.alice.stateOf(peer).value);
  return `${olm}/${reply}`;
};

describe("src bug: ids the library accepts but the spec does not poison a whole batch", () => {
  // Shrunk (public-argument fuzzing): [reportShareOutcomes([{ device: <alice with userId
  // "@alice:example.org@alice:example.org">, outcome: "failed" }]), establishSessions([])];
  // also "@m\udc00allory:evil.example" (a lone surrogate) and a roomId "!notaroom".
  // parseUserId accepts any server part (`^@[^:]+:.+$`) and lone surrogates; parseRoomId
  // accepts "!" + anything. The spec's mx-user-id / mx-room-id do not, and the homeserver
  // refuses (400) the /keys/claim or sendToDevice that names one. Both are batched, so one such
  // id fails every device of an establishSessions call (an m.no_olm to devices that have keys),
  // and the request carrying every notice packed with it is refused on each retry, forever.
  const odd = (device: PeerDevice) =>
    ({ ...device, userId: "@carol:example.org@x:y" }) as PeerDevice;

  it("Bob, who has keys, is established although the same call names such a user id", async () => {
    const s = await makeSetup();
    const outcomes = await s.alice.kw.establishSessions([s.bob.device, odd(s.carol.device)]);
    const bob = outcomes.find(
      (o) => o.outcome !== "refused" && o.device.userId === s.bob.device.userId,
    );
    expect(bob?.outcome).toBe("established");
    expect(leaves(s, s.bob.device)).toBe("established/idle");
    expect(s.hs.violations).toEqual([]);
  });

  it("Bob's m.no_olm is delivered although it is packed with one for such a user id", async () => {
    const s = await makeSetup();
    await s.alice.kw.reportShareOutcomes([
      { device: s.bob.device, outcome: "failed" },
      { device: odd(s.carol.device), outcome: "failed" },
    ]);
    await s.alice.kw.flush();
    expect(withheldDeliveredTo(s, s.bob.device)).toBe(1);
    expect(leaves(s, s.bob.device)).toBe("noticeDelivered/idle");
    expect(s.alice.kw.pendingRequests).toBe(0);
    expect(s.hs.violations).toEqual([]);
  });

  it("Carol's per-session notice is delivered although Bob's, in the same call, names such a room", async () => {
    const s = await makeSetup();
    await s.alice.kw.withholdSessions([
      {
        device: s.bob.device,
        code: "m.unverified",
        roomId: "!notaroom" as never,
        sessionId: "s1" as never,
      },
      {
        device: s.carol.device,
        code: "m.unverified",
        roomId: "!room:example.org" as never,
        sessionId: "s2" as never,
      },
    ]);
    await s.alice.kw.flush();
    expect(withheldDeliveredTo(s, s.carol.device)).toBe(1);
    expect(s.alice.kw.pendingRequests).toBe(0);
    expect(s.hs.violations).toEqual([]);
  });
});

describe("src bug: a call that refuses every entry still flushes", () => {
  // Shrunk (edge fuzzing): [withholdSessions for a peer whose sendToDevice result was faked
  // (the request stays pending), establishSessions([garbage])]: sendRequests went from 1 to 2.
  // establishSessions, reportShareOutcomes and withholdSessions refuse each bad entry and then
  // call flush() all the same: a request left pending by an earlier failure goes on the wire,
  // and its notice's machine moves (noticePending → noticeDelivered), for an input refused whole.
  const garbage = [{ device: { userId: "not a user" }, outcome: "sometimes" }];
  it.each([
    ["establishSessions", (s: Setup) => s.alice.kw.establishSessions(garbage as never)],
    ["reportShareOutcomes", (s: Setup) => s.alice.kw.reportShareOutcomes(garbage as never)],
    ["withholdSessions", (s: Setup) => s.alice.kw.withholdSessions(garbage as never)],
  ] as const)("%s with every entry refused sends nothing and moves no machine", async (_, call) => {
    const s = await makeSetup();
    s.hs.failNext(s.alice.device, "sendToDevice", 1);
    await s.alice.kw.reportShareOutcomes([{ device: s.bob.device, outcome: "failed" }]);
    expect(s.alice.kw.pendingRequests).toBe(1);
    const requests = s.hs.requestCount(s.alice.device, "sendToDevice");
    const before = leaves(s, s.bob.device);
    await call(s);
    expect(s.hs.requestCount(s.alice.device, "sendToDevice")).toBe(requests);
    expect(leaves(s, s.bob.device)).toBe(before);
  });
});

describe("src bug: one store failure during a reply wedges the peer's reply for good", () => {
  // Shrunk (edge fuzzing, against the earlier synchronous store): one failed save while a notice
  // was answered left the stored machine in replying.newSession, where later notices are only
  // recorded. Now the in-process state is the truth and a failed commit is written again with
  // the next one; these keep that so.
  const noticeFrom = (d: SimulatedDevice) => ({
    type: "m.room_key.withheld",
    sender: d.device.userId,
    content: buildNoOlmNotice({
      senderKey: d.device.curve25519,
      fromDevice: d.device.deviceId,
    }) as unknown as JsonObject,
  });

  it("after failed commits during a reply, the machine is not left mid-reply and a notice two hours later is answered", async () => {
    const s = await makeSetup();
    s.store.failCommits = [s.store.commits + 1, s.store.commits + 2, s.store.commits + 3];
    await s.alice.kw.handleToDeviceEvent(noticeFrom(s.bob));
    s.store.failCommits = [];
    expect(leaves(s, s.bob.device)).toBe("established/idle");
    s.clock.now += 2 * 3_600_000;
    const later = await s.alice.kw.handleToDeviceEvent(noticeFrom(s.bob));
    expect(later.kind === "noOlmNotice" ? later.reply : later.kind).not.toBe("none");
    expect(leaves(s, s.bob.device)).toBe("established/idle");
  });

  it("what a failed commit held is written by the next one", async () => {
    const s = await makeSetup();
    s.store.failCommits = [s.store.commits + 1];
    await s.alice.kw.reportShareOutcomes([{ device: s.bob.device, outcome: "failed" }]);
    await s.alice.kw.stop();
    const stored = await s.store.inner.load();
    const bob = stored.peers.find(([key]) => key.includes(s.bob.device.deviceId));
    expect(bob?.[1]).toMatchObject({ value: { olm: { unreachable: "noticeDelivered" } } });
    expect(stored.requests).toEqual([]);
  });

  it("a store whose load answers garbage refuses the open, typed", async () => {
    const s = await makeSetup();
    s.store.garbage = true;
    const opened = await openKeyWithholding({
      olm: s.alice.olm,
      transport: s.hs.transportFor(s.alice.device.userId, s.alice.device.deviceId),
      devices: s.alice.directory,
      store: s.store,
    });
    expect(opened).toMatchObject({ ok: false, reason: "storeFailed" });
  });
});
