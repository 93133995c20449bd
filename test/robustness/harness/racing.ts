import fc from "fast-check";
import type { RoomId } from "../../../src/events/matrixIds.js";
import { peerLeaves } from "../../../src/machine/peerSnapshot.js";
import { CLAIM_BACKOFF_CAP_MS, REPLY_INTERVAL_MS } from "../../../src/machine/timing.js";
import {
  HOUR,
  MINUTE,
  makeRobustWorld,
  noOlmDeliveries,
  type RobustWorld,
} from "../../../src/testing/world/simulatedWorld.js";
import type { Transport } from "../../../src/transport/transport.js";
import { specHomeserver } from "../../support/specHomeserver.js";
import { buildHostile } from "./hostile.js";

/*
 * Racing peers: 2–3 real coordinators on the homeserver double, every transport call and every
 * delivery ordered by fc.scheduler(); deliveries reordered, duplicated and dropped; transport
 * faults; one-time keys running out and coming back.
 */

type Fault = "none" | "throw" | "garbage" | "hang" | "failNext" | "loseNext";
type Delivery = "deliver" | "dup" | "drop";

export interface Round {
  readonly shares: readonly number[];
  readonly faults: readonly {
    readonly dev: number;
    readonly fault: Fault;
    readonly claim: boolean;
  }[];
  readonly upload: readonly { readonly dev: number; readonly count: number }[];
  readonly advance: number;
}

export interface Plan {
  readonly keys: readonly number[];
  readonly rounds: readonly Round[];
  readonly deliveries: readonly Delivery[];
}

export const planArb: fc.Arbitrary<Plan> = fc.integer({ min: 2, max: 3 }).chain((n) =>
  fc.record({
    keys: fc.array(fc.nat(2), { minLength: n, maxLength: n }),
    rounds: fc.array(
      fc.record({
        shares: fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: n }),
        faults: fc.array(
          fc.record({
            dev: fc.nat(n - 1),
            fault: fc.constantFrom<Fault>(
              "none",
              "throw",
              "garbage",
              "hang",
              "failNext",
              "loseNext",
            ),
            claim: fc.boolean(),
          }),
          { maxLength: 3 },
        ),
        upload: fc.array(fc.record({ dev: fc.nat(n - 1), count: fc.nat(2) }), { maxLength: 2 }),
        advance: fc.constantFrom(0, MINUTE, 30 * MINUTE, HOUR + MINUTE),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    deliveries: fc.array(
      fc.constantFrom<Delivery>("deliver", "deliver", "deliver", "dup", "drop"),
      {
        minLength: 1,
        maxLength: 16,
      },
    ),
  }),
);

export interface RaceOutcome {
  pingpong: number;
  unconverged: number;
  stuck: number;
  problems: string[];
}

const NAMES = ["alice", "bob", "carol"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RaceSettings {
  /**
   * Protocol time that passes before each final round. Default: the longest claim backoff, so
   * whatever backoff R5 started (per device or per server, up to 15 min) is over, and R5 owes a
   * claim. At the instant the schedule ended R5 rightly skips a device whose claims just failed,
   * so convergence is not owed there (0 shows it: racing.test.ts).
   */
  readonly finalWaitMs?: number;
}

export async function runSchedule(
  s: fc.Scheduler,
  plan: Plan,
  settings: RaceSettings = {},
): Promise<RaceOutcome> {
  const finalWaitMs = settings.finalWaitMs ?? CLAIM_BACKOFF_CAP_MS;
  const out: RaceOutcome = { pingpong: 0, unconverged: 0, stuck: 0, problems: [] };
  const names = NAMES.slice(0, plan.keys.length);
  // Per device, pending one-shot wrapper faults for the next call of each endpoint.
  const armed = new Map<string, { send: Fault[]; claim: Fault[] }>();
  let faultsOn = true;
  const wrap =
    (name: string) =>
    (inner: Transport): Transport => {
      const queue = { send: [] as Fault[], claim: [] as Fault[] };
      armed.set(name, queue);
      const run = <T>(endpoint: "send" | "claim", call: () => Promise<T>): Promise<T> =>
        s.schedule(Promise.resolve(), `${name} ${endpoint}`).then(() => {
          const fault = faultsOn ? queue[endpoint].shift() : undefined;
          switch (fault) {
            case "throw":
              throw new Error("transport down");
            case "garbage":
              return buildHostile("throwingGetters") as T;
            case "hang":
              return new Promise<T>(() => {});
            default:
              return call();
          }
        });
      return {
        sendToDevice: (r) => run("send", () => inner.sendToDevice(r)),
        claimKeys: (r) => run("claim", () => inner.claimKeys(r)),
      };
    };
  const keys = Object.fromEntries(names.map((name, i) => [name, plan.keys[i] ?? 0]));
  const world: RobustWorld = await makeRobustWorld(
    keys,
    undefined,
    (name) => ({
      wrapTransport: wrap(name),
      // Long enough that the scheduler releasing a call is never mistaken for a hang under load;
      // a "hang" fault still ends by this timeout.
      callTimeoutMs: 250,
    }),
    specHomeserver(),
  );
  const dummyTimes = new Map<string, number[]>();
  world.hs.onDeliver((m) => {
    if (m.eventType === "m.room.encrypted" && m.txnId.startsWith("mkw.")) {
      const key = `${m.sender.userId}>${m.recipient.userId}`;
      dummyTimes.set(key, [...(dummyTimes.get(key) ?? []), world.clock.now]);
    }
  });
  try {
    let deliveryIndex = 0;
    let dropping = true;
    const inFlight = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      const t = p
        .catch((e: unknown) => out.problems.push(`escaped: ${String(e)}`))
        .finally(() => inFlight.delete(t));
      inFlight.add(t);
    };
    const deliverAll = () => {
      for (const name of names) {
        const dev = world.device(name);
        for (const event of world.hs.sync(dev.device.userId, dev.device.deviceId)) {
          const how: Delivery = dropping
            ? (plan.deliveries[deliveryIndex++ % plan.deliveries.length] ?? "deliver")
            : "deliver";
          const copies = how === "drop" ? 0 : how === "dup" ? 2 : 1;
          for (let i = 0; i < copies; i += 1) {
            track(
              s.schedule(Promise.resolve(event), `deliver to ${name}`).then(async (e) => {
                const r = await dev.kw.handleToDeviceEvent(e);
                if (r.kind === "decrypted" && r.type === "m.room_key")
                  dev.importRoomKeyForTest(r.content);
              }),
            );
          }
        }
      }
    };
    const drain = async () => {
      for (let i = 0; i < 200; i += 1) {
        deliverAll();
        await s.waitAll();
        if (inFlight.size === 0) {
          deliverAll();
          if (inFlight.size === 0) return;
        } else await sleep(25);
      }
      out.problems.push("drain did not finish");
    };

    let roomN = 0;
    for (const round of plan.rounds) {
      world.clock.now += round.advance;
      for (const f of round.faults) {
        const name = names[f.dev % names.length] as string;
        const d = world.device(name).device;
        const endpoint = f.claim ? "claimKeys" : "sendToDevice";
        if (f.fault === "failNext") world.hs.failNext(d, endpoint);
        else if (f.fault === "loseNext") world.hs.loseNextResponses(d, endpoint);
        else if (f.fault !== "none") armed.get(name)?.[f.claim ? "claim" : "send"].push(f.fault);
      }
      for (const u of round.upload)
        world.device(names[u.dev % names.length] as string).uploadOneTimeKeys(u.count);
      roomN += 1;
      for (const i of round.shares) {
        const sharer = world.device(names[i] as string);
        const others = names.filter((n) => n !== names[i]).map((n) => world.device(n).device);
        track(
          s
            .schedule(Promise.resolve(), `share ${names[i]}`)
            .then(() => sharer.shareRoomKey(`!race${roomN}:example.org` as RoomId, others)),
        );
      }
      await drain();
    }

    // Faults stop, keys exist: drain, flush, drain.
    faultsOn = false;
    dropping = false;
    for (const q of armed.values()) {
      q.send.length = 0;
      q.claim.length = 0;
    }
    for (const name of names) {
      // Use up the homeserver's injected faults with calls of our own.
      const d = world.device(name).device;
      const raw = world.hs.transportFor(d.userId, d.deviceId);
      for (let i = 0; i < 10 && world.hs.pendingFaults(d, "claimKeys") > 0; i += 1)
        await raw.claimKeys({ one_time_keys: {}, timeout: 0 } as never);
      for (let i = 0; i < 10 && world.hs.pendingFaults(d, "sendToDevice") > 0; i += 1)
        await raw.sendToDevice({
          eventType: "org.example.probe",
          txnId: `probe.${i}.${Date.now()}`,
          body: { messages: {} },
        } as never);
    }
    await drain();
    for (const name of names) track(world.device(name).kw.flush());
    await drain();
    for (const name of names) track(world.device(name).kw.flush());
    await drain();

    for (const x of names)
      for (const y of names) {
        if (x === y) continue;
        const state = world.device(x).stateOf(world.device(y).device);
        const leaves = peerLeaves(state.value);
        if (leaves.reply === "newSession" || leaves.reply === "existingSession") {
          out.stuck += 1;
          out.problems.push(`stuck: ${x} → ${y} in replying.${leaves.reply}`);
        }
        const noOlm = noOlmDeliveries(world, x, y);
        if (noOlm > state.context.noticeId) {
          out.pingpong += 1;
          out.problems.push(
            `ping-pong: ${noOlm} m.no_olm ${x} → ${y}, episodes ${state.context.noticeId}`,
          );
        }
        const times =
          dummyTimes.get(`${world.device(x).device.userId}>${world.device(y).device.userId}`) ?? [];
        for (let i = 1; i < times.length; i += 1) {
          if ((times[i] as number) - (times[i - 1] as number) < REPLY_INTERVAL_MS) {
            out.pingpong += 1;
            out.problems.push(`m.dummy ${x} → ${y} twice within an hour (${times.length} in all)`);
            break;
          }
        }
      }

    // Convergence: every device has keys; final rounds on fresh rooms must reach every pair. A
    // client shares again with the next message, and a claim can still time out here (the
    // scheduler holds calls past callTimeoutMs), so up to three rounds, as a client would, each
    // after the claim backoffs (R5) that earlier failures started have run out.
    for (const name of names) world.device(name).uploadOneTimeKeys(3);
    let unread: string[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      world.clock.now += finalWaitMs;
      for (const x of names) {
        const others = names.filter((n) => n !== x).map((n) => world.device(n).device);
        track(world.device(x).shareRoomKey(`!final-${x}:example.org` as RoomId, others));
      }
      await drain();
      unread = [];
      for (const x of names) {
        const message = world
          .device(x)
          .encryptRoomMessage(`!final-${x}:example.org` as RoomId, `from ${x}`);
        for (const y of names) {
          if (x === y) continue;
          const read = world.device(y).decryptRoomMessage(message);
          if (!read.ok)
            unread.push(`unconverged: ${y} cannot read ${x}'s final message (${read.why})`);
        }
      }
      if (unread.length === 0) break;
    }
    out.unconverged += unread.length;
    out.problems.push(...unread);
    out.problems.push(...world.violations().slice(0, 3));
  } finally {
    world.close();
  }
  return out;
}

export interface RacingCounters {
  schedules: number;
  pingpong: number;
  unconverged: number;
  stuck: number;
  failures: string[];
}

/** Runs `numRuns` schedules (or until `deadline`, a Date.now() value); shrinks any failure. */
export async function runRacing(
  numRuns: number,
  seed: number,
  deadline = Number.POSITIVE_INFINITY,
): Promise<RacingCounters> {
  const c: RacingCounters = { schedules: 0, pingpong: 0, unconverged: 0, stuck: 0, failures: [] };
  // The counters are the first failing schedule's; the shrinking runs after it are not counted.
  let failed = false;
  const result = await fc.check(
    fc.asyncProperty(fc.scheduler(), planArb, async (s, plan) => {
      if (Date.now() > deadline) return true;
      const out = await runSchedule(s, plan);
      c.schedules += 1;
      const bad = out.pingpong + out.unconverged + out.stuck > 0 || out.problems.length > 0;
      if (bad && !failed) {
        failed = true;
        c.pingpong += out.pingpong;
        c.unconverged += out.unconverged;
        c.stuck += out.stuck;
      }
      if (bad) throw new Error(out.problems.join("\n"));
      return true;
    }),
    {
      numRuns,
      seed,
      endOnFailure: false,
      interruptAfterTimeLimit: Number.isFinite(deadline)
        ? Math.max(1, deadline - Date.now())
        : undefined,
    } as never,
  );
  if (result.failed) {
    c.failures.push(
      `seed ${result.seed} path ${result.counterexamplePath}: ${fc.stringify(result.counterexample)}\n${String(
        (result.errorInstance as Error | undefined)?.message ?? "",
      )}`,
    );
  }
  return c;
}
