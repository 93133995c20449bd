import fc from "fast-check";
import {
  createKeyWithholding,
  type KeyWithholding,
  openKeyWithholding,
} from "../../../src/coordinator/keyWithholding.js";
import type { KeyWithholdingHooks } from "../../../src/coordinator/keyWithholdingTypes.js";
import type { DeviceDirectory, PeerDevice } from "../../../src/devices/peerDevice.js";
import { decodeWithheldEvent } from "../../../src/events/decodeWithheld.js";
import {
  brokenInvariant,
  initialPeerSnapshot,
  type PeerSnapshot,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../../src/machine/stepPeer.js";
import { InMemoryStore } from "../../../src/store/inMemoryStore.js";
import type { KeyWithholdingStore } from "../../../src/store/keyWithholdingStore.js";
import { rawWithheldEventArb } from "../../../src/testing/arbitraries/withheldArbitraries.js";
import {
  asJson,
  makeRobustWorld,
  ROOM,
  type RobustWorld,
  syncRaw,
} from "../../../src/testing/world/simulatedWorld.js";
import type { Transport } from "../../../src/transport/transport.js";
import { specHomeserver } from "../../support/specHomeserver.js";
import {
  argRecipeArb,
  build,
  buildHostile,
  type Leaf,
  leafArb,
  type Recipe,
  recipeArb,
  showRecipe,
} from "./hostile.js";

export interface FuzzCounters {
  inputs: number;
  escaped: number;
  stateChangesFromInvalid: number;
  /** Refusals without a string `reason`. */
  reasonless: number;
  perTarget: Record<string, { inputs: number; escaped: number; invalidChanges: number }>;
  /** The first few counterexamples (recipe, target, what happened). */
  examples: string[];
}

export const newCounters = (): FuzzCounters => ({
  inputs: 0,
  escaped: 0,
  stateChangesFromInvalid: 0,
  reasonless: 0,
  perTarget: {},
  examples: [],
});

function note(
  c: FuzzCounters,
  target: string,
  kind: "input" | "escaped" | "invalid" | "reasonless",
  detail?: string,
) {
  const t = c.perTarget[target] ?? { inputs: 0, escaped: 0, invalidChanges: 0 };
  c.perTarget[target] = t;
  if (kind === "input") {
    c.inputs += 1;
    t.inputs += 1;
    return;
  }
  if (kind === "escaped") {
    c.escaped += 1;
    t.escaped += 1;
  } else if (kind === "invalid") {
    c.stateChangesFromInvalid += 1;
    t.invalidChanges += 1;
  } else c.reasonless += 1;
  const prefix = `[${target}] ${kind}`;
  if (detail !== undefined && c.examples.filter((e) => e.startsWith(prefix)).length < 3)
    c.examples.push(`${prefix}: ${detail}`);
}

const describeError = (e: unknown): string => {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return "(unprintable)";
  }
};

const hasStringReason = (r: unknown): boolean =>
  typeof r === "object" && r !== null && typeof (r as { reason?: unknown }).reason === "string";

/** Draws `n` values in batches (fresh seed per batch), calling `each` on every one. */
async function forEachSample<T>(
  arb: fc.Arbitrary<T>,
  n: number,
  seed: number,
  each: (value: T) => void | Promise<void>,
): Promise<void> {
  const batch = 1000;
  for (let done = 0, b = 0; done < n; b += 1) {
    const count = Math.min(batch, n - done);
    for (const value of fc.sample(arb, { seed: (seed + b * 7919) | 0, numRuns: count })) {
      await each(value);
    }
    done += count;
  }
}

// ------------------------------------------------------------------ pure targets

const validPeerEventArb = fc.oneof(
  fc.record({
    type: fc.constantFrom("ESTABLISH_FAILED", "NOTICE_RECEIVED", "RESUMED"),
    at: fc.nat(),
  }),
  fc.record({
    type: fc.constant("SESSION_ESTABLISHED"),
    at: fc.nat(),
    origin: fc.constantFrom("outbound", "inbound", "existing"),
  }),
  fc.record({
    type: fc.constantFrom("NOTICE_SENT", "NOTICE_SEND_FAILED"),
    at: fc.nat(),
    noticeId: fc.nat(4),
  }),
  fc.record({
    type: fc.constantFrom("REPLY_SUCCEEDED", "REPLY_FAILED"),
    at: fc.nat(),
    replyId: fc.nat(4),
  }),
);

/** Reachable snapshots: random walks from the initial one over valid events. */
function reachableSnapshots(seed: number): PeerSnapshot[] {
  const out: PeerSnapshot[] = [initialPeerSnapshot];
  const walks = fc.sample(fc.array(validPeerEventArb, { maxLength: 12 }), { seed, numRuns: 200 });
  for (const walk of walks) {
    let s = initialPeerSnapshot;
    let at = 0;
    for (const e of walk) {
      at += (e.at % 4) * 20 * 60_000;
      const step = stepPeer(s, { ...e, at });
      s = step.snapshot;
      out.push(s);
    }
  }
  return out.map((s) => deepFreeze(asJson(s)) as unknown as PeerSnapshot);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export async function fuzzDecode(n: number, seed: number, c: FuzzCounters): Promise<void> {
  const arb = recipeArb(rawWithheldEventArb as fc.Arbitrary<unknown>);
  await forEachSample(arb, n, seed, (recipe) => {
    note(c, "decodeWithheldEvent", "input");
    let value: unknown;
    try {
      value = build(recipe);
    } catch {
      return;
    }
    try {
      const r = decodeWithheldEvent(value);
      if (!r.ok && !hasStringReason(r))
        note(c, "decodeWithheldEvent", "reasonless", showRecipe(recipe));
    } catch (e) {
      note(c, "decodeWithheldEvent", "escaped", `${describeError(e)} <- ${showRecipe(recipe)}`);
    }
  });
}

export async function fuzzStepPeer(n: number, seed: number, c: FuzzCounters): Promise<void> {
  const pool = reachableSnapshots(seed);
  const arb = fc.tuple(
    fc.oneof(
      { weight: 9, arbitrary: fc.nat(pool.length - 1).map((i) => ({ k: "pool" as const, i })) },
      { weight: 1, arbitrary: leafArb.map((leaf) => ({ k: "leaf" as const, leaf })) },
      {
        weight: 1,
        arbitrary: recipeArb(fc.constantFrom(...pool.slice(0, 50))).map((r) => ({
          k: "recipe" as const,
          r,
        })),
      },
    ),
    recipeArb(validPeerEventArb as fc.Arbitrary<unknown>),
  );
  await forEachSample(arb, n, seed, ([snap, recipe]) => {
    note(c, "stepPeer", "input");
    let snapshot: unknown;
    let event: unknown;
    try {
      snapshot =
        snap.k === "pool" ? pool[snap.i] : snap.k === "leaf" ? build(snap.leaf) : build(snap.r);
      event = build(recipe);
    } catch {
      return;
    }
    const before = snap.k === "pool" ? JSON.stringify(snapshot) : undefined;
    try {
      const r = stepPeer(snapshot as PeerSnapshot, event);
      if (r.kind === "rejected") {
        if (!hasStringReason(r.rejection)) note(c, "stepPeer", "reasonless", showRecipe(recipe));
        if (!Object.is(r.snapshot, snapshot))
          note(c, "stepPeer", "invalid", `snapshot replaced <- ${showRecipe(recipe)}`);
      }
      if (before !== undefined && JSON.stringify(snapshot) !== before)
        note(c, "stepPeer", "invalid", `argument mutated <- ${showRecipe(recipe)}`);
      if (snap.k === "pool" && r.kind === "applied" && brokenInvariant(r.snapshot) !== undefined)
        note(c, "stepPeer", "invalid", `invariant broken: ${brokenInvariant(r.snapshot)}`);
    } catch (e) {
      note(
        c,
        snap.k === "pool" ? "stepPeer" : "stepPeer(hostile snapshot)",
        "escaped",
        `${describeError(e)} <- snapshot ${snap.k === "pool" ? "pool" : showRecipe(snap.k === "leaf" ? snap.leaf : snap.r)}, event ${showRecipe(recipe)}`,
      );
    }
  });
}

export async function fuzzRestore(n: number, seed: number, c: FuzzCounters): Promise<void> {
  const pool = reachableSnapshots(seed + 1).map((s) => asJson(persistPeerSnapshot(s)));
  const arb = recipeArb(fc.constantFrom(...pool.slice(0, 200)));
  await forEachSample(arb, n, seed, (recipe) => {
    note(c, "restorePeerSnapshot", "input");
    let value: unknown;
    try {
      value = build(recipe);
    } catch {
      return;
    }
    try {
      const r = restorePeerSnapshot(value);
      if (!r.ok && !hasStringReason(r))
        note(c, "restorePeerSnapshot", "reasonless", showRecipe(recipe));
      if (r.ok && brokenInvariant(r.value) !== undefined)
        note(
          c,
          "restorePeerSnapshot",
          "invalid",
          `accepted a broken snapshot <- ${showRecipe(recipe)}`,
        );
    } catch (e) {
      note(c, "restorePeerSnapshot", "escaped", `${describeError(e)} <- ${showRecipe(recipe)}`);
    }
  });
}

// ------------------------------------------------------------------ coordinator targets

export interface CoordinatorFixture {
  readonly world: RobustWorld;
  /** Genuine events addressed to bob: m.no_olm, per-session withheld, Olm pre-key messages. */
  readonly genuine: readonly unknown[];
  readonly known: readonly PeerDevice[];
}

export async function coordinatorFixture(): Promise<CoordinatorFixture> {
  const world = await makeRobustWorld(
    { alice: 5, bob: 0, carol: 5 },
    undefined,
    undefined,
    specHomeserver(),
  );
  const [alice, bob, carol] = [world.device("alice"), world.device("bob"), world.device("carol")];
  await alice.shareRoomKey(ROOM, [bob.device]);
  bob.uploadOneTimeKeys(5);
  await carol.shareRoomKey(ROOM, [bob.device]);
  await alice.kw.withholdSessions([
    {
      device: bob.device,
      code: "m.unverified",
      roomId: ROOM,
      sessionId: "AAAAsessionAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" as never,
      reason: "unverified",
    },
  ]);
  const genuine = syncRaw(world, "bob").map(asJson);
  return { world, genuine, known: [alice.device, carol.device] };
}

interface Observed {
  readonly peers: string;
  readonly claims: number;
  readonly deliveries: number;
}

function observe(kw: KeyWithholding, fx: CoordinatorFixture): Observed {
  return {
    peers: JSON.stringify(fx.known.map((d) => kw.peerState(d))),
    claims: fx.world.hs.claims.length,
    deliveries: fx.world.hs.deliveries.length,
  };
}

const sameObserved = (a: Observed, b: Observed) =>
  a.peers === b.peers && a.claims === b.claims && a.deliveries === b.deliveries;

function lengthOf(value: unknown): number | undefined {
  try {
    return Array.isArray(value) ? value.length : undefined;
  } catch {
    return undefined;
  }
}

export async function fuzzHandleToDevice(
  n: number,
  seed: number,
  c: FuzzCounters,
  fx: CoordinatorFixture,
) {
  const kw = fx.world.device("bob").kw;
  const arb = recipeArb(fc.constantFrom(...fx.genuine));
  await forEachSample(arb, n, seed, async (recipe) => {
    note(c, "handleToDeviceEvent", "input");
    let value: unknown;
    try {
      value = build(recipe);
    } catch {
      return;
    }
    const before = observe(kw, fx);
    try {
      const r = await kw.handleToDeviceEvent(value);
      if (r.kind === "rejected" || r.kind === "notHandled") {
        if (r.kind === "rejected" && !hasStringReason(r))
          note(c, "handleToDeviceEvent", "reasonless", showRecipe(recipe));
        if (!sameObserved(before, observe(kw, fx)))
          note(
            c,
            "handleToDeviceEvent",
            "invalid",
            `${r.kind} yet state changed <- ${showRecipe(recipe)}`,
          );
      }
    } catch (e) {
      note(c, "handleToDeviceEvent", "escaped", `${describeError(e)} <- ${showRecipe(recipe)}`);
    }
  });
}

type Method =
  | "establishSessions"
  | "reportShareOutcomes"
  | "withholdSessions"
  | "explainUndecryptable"
  | "peerState"
  | "createKeyWithholding";

export async function fuzzPublicArguments(
  n: number,
  seed: number,
  c: FuzzCounters,
  fx: CoordinatorFixture,
) {
  const bob = fx.world.device("bob");
  const kw = bob.kw;
  const devices = fx.known.map(asJson);
  const sessionId = "BBBBsessionBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
  const bases: Record<Method, unknown[]> = {
    establishSessions: devices,
    peerState: devices,
    reportShareOutcomes: devices.flatMap((device) => [
      { device, outcome: "established" },
      { device, outcome: "failed" },
    ]),
    withholdSessions: devices.map((device) => ({
      device,
      code: "m.blacklisted",
      roomId: ROOM,
      sessionId,
      reason: "r",
    })),
    explainUndecryptable: devices.map((d) => ({
      sender: d.userId,
      senderKey: d.curve25519,
      roomId: ROOM,
      sessionId,
      originServerTs: fx.world.clock.now,
    })),
    createKeyWithholding: [{ noOlmReason: "x", callTimeoutMs: 20, maxMessagesPerRequest: 3 }],
  };
  const methods = Object.keys(bases) as Method[];
  const arb = fc
    .constantFrom(...methods)
    .chain((method) =>
      fc.tuple(fc.constant(method), argRecipeArb(fc.constantFrom(...(bases[method] as unknown[])))),
    );
  const realEdges = {
    olm: bob.olm,
    transport: fx.world.hs.transportFor(bob.device.userId, bob.device.deviceId),
    devices: bob.directory,
  };
  await forEachSample(arb, n, seed, async ([method, recipe]) => {
    note(c, method, "input");
    let value: unknown;
    try {
      value = build(recipe);
      if (
        method === "createKeyWithholding" &&
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value)
      ) {
        // Real edges under whatever the recipe did to the rest (it may have replaced them too).
        value = Object.assign({}, realEdges, value);
      }
    } catch {
      return;
    }
    const before = observe(kw, fx);
    const unchanged = () => sameObserved(before, observe(kw, fx));
    const n = lengthOf(value);
    try {
      switch (method) {
        case "establishSessions": {
          const out = await kw.establishSessions(value as never);
          const refused = out.filter((o) => o.outcome === "refused");
          if (refused.some((o) => !hasStringReason(o)))
            note(c, method, "reasonless", showRecipe(recipe));
          if (refused.length === out.length && !unchanged())
            note(c, method, "invalid", `all refused yet state changed <- ${showRecipe(recipe)}`);
          break;
        }
        case "reportShareOutcomes":
        case "withholdSessions": {
          const report = await (method === "reportShareOutcomes"
            ? kw.reportShareOutcomes(value as never)
            : kw.withholdSessions(value as never));
          const refused = report.refused ?? [];
          if (refused.some((o) => !hasStringReason(o)))
            note(c, method, "reasonless", showRecipe(recipe));
          const whole = refused.some((o) => o.index === undefined);
          if ((whole || (n !== undefined && refused.length === n && n > 0)) && !unchanged())
            note(c, method, "invalid", `refused yet state changed <- ${showRecipe(recipe)}`);
          break;
        }
        case "explainUndecryptable": {
          const r = kw.explainUndecryptable(value as never);
          if (r.kind === "refused" && !hasStringReason(r))
            note(c, method, "reasonless", showRecipe(recipe));
          if (!unchanged())
            note(c, method, "invalid", `explain changed state <- ${showRecipe(recipe)}`);
          break;
        }
        case "peerState": {
          const r = kw.peerState(value as never);
          if (!r.ok && !hasStringReason(r)) note(c, method, "reasonless", showRecipe(recipe));
          break;
        }
        case "createKeyWithholding": {
          const r = createKeyWithholding(value as never);
          if (!r.ok && !hasStringReason(r)) note(c, method, "reasonless", showRecipe(recipe));
          break;
        }
      }
    } catch (e) {
      note(c, method, "escaped", `${describeError(e)} <- ${showRecipe(recipe)}`);
    }
  });
}

// ------------------------------------------------------------------ hostile edges

type Behaviour =
  | { readonly k: "pass" }
  | { readonly k: "throw" | "resolve" | "reject" | "return"; readonly v: Leaf }
  | { readonly k: "hang" };

/** For synchronous edges (the device list, the store): no promises, no hangs. */
const syncBehaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { weight: 60, arbitrary: fc.constant({ k: "pass" as const }) },
  {
    weight: 40,
    arbitrary: fc.record({
      k: fc.constantFrom("throw", "return"),
      v: leafArb,
    }) as fc.Arbitrary<Behaviour>,
  },
);

const behaviourArb = (hangWeight: number): fc.Arbitrary<Behaviour> =>
  fc.oneof(
    { weight: 60, arbitrary: fc.constant({ k: "pass" as const }) },
    {
      weight: 40,
      arbitrary: fc.record({
        k: fc.constantFrom("throw", "resolve", "reject", "return"),
        v: leafArb,
      }) as fc.Arbitrary<Behaviour>,
    },
    ...(hangWeight > 0
      ? [{ weight: hangWeight, arbitrary: fc.constant({ k: "hang" as const }) }]
      : []),
  );

function perform(b: Behaviour, pass: () => unknown): unknown {
  switch (b.k) {
    case "pass":
      return pass();
    case "hang":
      return new Promise(() => {});
    case "throw":
      throw build(b.v);
    case "resolve":
      return Promise.resolve().then(() => build(b.v));
    case "reject":
      return Promise.reject(build(b.v));
    case "return":
      return build(b.v);
  }
}

export async function fuzzEdges(n: number, seed: number, c: FuzzCounters, fx: CoordinatorFixture) {
  const bob = fx.world.device("bob");
  const hs = fx.world.hs;
  const inner = hs.transportFor(bob.device.userId, bob.device.deviceId);
  const noOlm = fx.genuine[0];
  const arb = fc.record({
    claim: behaviourArb(2),
    send: behaviourArb(2),
    dir: syncBehaviourArb,
    hook: behaviourArb(1),
    storeLoad: behaviourArb(1),
    storeCommit: behaviourArb(1),
    action: fc.constantFrom("establish", "noOlm", "report", "withhold", "flush"),
    peer: fc.nat(fx.known.length - 1),
  });
  let current = "";
  const onUnhandled = (reason: unknown) =>
    note(c, "edges", "escaped", `unhandled rejection ${describeError(reason)} <- ${current}`);
  process.on("unhandledRejection", onUnhandled);
  try {
    await forEachSample(arb, n, seed, async (plan) => {
      note(c, "edges", "input");
      current = fc.stringify(plan).slice(0, 1500);
      // Let a rejection the previous input left unhandled be reported against it.
      await new Promise((resolve) => setImmediate(resolve));
      const transport: Transport = {
        claimKeys: (r) => perform(plan.claim, () => inner.claimKeys(r)) as never,
        sendToDevice: (r) => perform(plan.send, () => inner.sendToDevice(r)) as never,
      };
      const real = bob.directory;
      const devices: DeviceDirectory = {
        findDevice: (u, d) => perform(plan.dir, () => real.findDevice(u, d)) as never,
        findByCurve25519: (u, k) => perform(plan.dir, () => real.findByCurve25519(u, k)) as never,
        knowsUser: (u) => perform(plan.dir, () => real.knowsUser(u)) as never,
      };
      const memory = new InMemoryStore();
      const store: KeyWithholdingStore = {
        loadOlm: () => memory.loadOlm(),
        load: () => perform(plan.storeLoad, () => memory.load()) as never,
        commit: (changes) => perform(plan.storeCommit, () => memory.commit(changes)) as never,
      };
      const hook = () => perform(plan.hook, () => undefined);
      const hooks: KeyWithholdingHooks = {
        onPeerReachable: hook,
        onRepliedToNotice: hook,
        onPeerStateChange: hook,
        onHookError: hook,
      };
      const peer = fx.known[plan.peer] as PeerDevice;
      try {
        const created = await openKeyWithholding({
          olm: bob.olm,
          transport,
          devices,
          store,
          hooks,
          callTimeoutMs: 20,
          clock: () => fx.world.clock.now,
        });
        if (!created.ok) {
          // A load that failed or answered garbage refuses the open, typed; anything else is a bug.
          if (created.reason !== "storeFailed" || plan.storeLoad.k === "pass") {
            note(c, "edges", "escaped", `openKeyWithholding refused: ${created.detail}`);
          }
          return;
        }
        const kw = created.value;
        switch (plan.action) {
          case "establish":
            await kw.establishSessions([peer]);
            break;
          case "noOlm":
            await kw.handleToDeviceEvent(noOlm);
            break;
          case "report":
            await kw.reportShareOutcomes([{ device: peer, outcome: "failed" }]);
            break;
          case "withhold":
            await kw.withholdSessions([
              { device: peer, code: "m.unverified", roomId: ROOM, sessionId: "S" as never },
            ]);
            break;
          case "flush":
            await kw.establishSessions([peer]);
            await kw.flush();
            break;
        }
        kw.peerState(peer);
        kw.explainUndecryptable({
          sender: peer.userId,
          senderKey: peer.curve25519,
          roomId: ROOM,
          sessionId: "S" as never,
          originServerTs: 1,
        });
        await kw.flush();
      } catch (e) {
        note(c, "edges", "escaped", `${describeError(e)} <- ${current}`);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
}

export interface FuzzSizes {
  readonly decode: number;
  readonly step: number;
  readonly restore: number;
  readonly handle: number;
  readonly args: number;
  readonly edges: number;
}

export const BOUNDED_FUZZ: FuzzSizes = {
  decode: 45_000,
  step: 27_000,
  restore: 20_000,
  handle: 3_000,
  args: 4_000,
  edges: 1_000,
};
export const FULL_FUZZ: FuzzSizes = {
  decode: 420_000,
  step: 260_000,
  restore: 200_000,
  handle: 50_000,
  args: 60_000,
  edges: 10_000,
};

/** Every fuzz target, in order; returns the counters. */
export async function runFuzz(sizes: FuzzSizes, seed: number): Promise<FuzzCounters> {
  const c = newCounters();
  await fuzzDecode(sizes.decode, seed, c);
  await fuzzStepPeer(sizes.step, seed + 1, c);
  await fuzzRestore(sizes.restore, seed + 2, c);
  const fx = await coordinatorFixture();
  try {
    await fuzzHandleToDevice(sizes.handle, seed + 3, c, fx);
    await fuzzPublicArguments(sizes.args, seed + 4, c, fx);
    await fuzzEdges(sizes.edges, seed + 5, c, fx);
  } finally {
    fx.world.close();
  }
  return c;
}

export { buildHostile, type Recipe };
