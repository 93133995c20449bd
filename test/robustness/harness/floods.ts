import { peerLeaves } from "../../../src/machine/peerSnapshot.js";
import {
  asJson,
  HOUR,
  makeRobustWorld,
  ROOM,
  syncRaw,
} from "../../../src/testing/world/simulatedWorld.js";
import { specHomeserver } from "../../support/specHomeserver.js";

export interface FloodCounters {
  notices: number;
  /** Claims caused by forged notices (must be 0). */
  forgedClaims: number;
  /** New Olm sessions from 10k genuine notices within an hour (must be ≤ 1). */
  newSessions: number;
  /** Claims made by the flooded device overall. */
  claims: number;
  unknownNotices: number;
  /** Unknown senders that left per-device state (must be 0). */
  unknownWithState: number;
  heapGrowthMb: number;
  problems: string[];
}

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
};

function keyFor(i: number): string {
  const bytes = Buffer.alloc(32);
  bytes.writeUInt32BE(i, 0);
  bytes.writeUInt32BE(0xdeadbeef, 8);
  return bytes.toString("base64").replace(/=+$/, "");
}

export async function runFloods(sizes: {
  forged: number;
  genuine: number;
  unknown: number;
}): Promise<FloodCounters> {
  const c: FloodCounters = {
    notices: 0,
    forgedClaims: 0,
    newSessions: 0,
    claims: 0,
    unknownNotices: 0,
    unknownWithState: 0,
    heapGrowthMb: 0,
    problems: [],
  };
  const world = await makeRobustWorld(
    { alice: 5, bob: 0, mallory: 5 },
    undefined,
    undefined,
    specHomeserver(),
  );
  try {
    const [alice, bob, mallory] = [
      world.device("alice"),
      world.device("bob"),
      world.device("mallory"),
    ];
    // A genuine m.no_olm from alice to bob (bob has no keys for her).
    await alice.shareRoomKey(ROOM, [bob.device]);
    const [genuine] = syncRaw(world, "bob").map(asJson);
    if (genuine === undefined) throw new Error("no genuine notice");
    const claimsBy = (name: string) =>
      world.hs.claims.filter((r) => r.claimer.userId === world.device(name).device.userId).length;

    // 1. Forged: mallory speaks for alice's key.
    const forged = {
      type: "m.room_key.withheld",
      sender: mallory.device.userId,
      content: { ...(genuine.content as object), from_device: "ALICEDEVICE" },
    };
    const forged2 = { ...genuine, sender: mallory.device.userId };
    for (let i = 0; i < sizes.forged; i += 1) {
      const r = await alice.kw.handleToDeviceEvent(i % 2 === 0 ? forged : forged2);
      c.notices += 1;
      if (r.kind !== "rejected" && c.problems.length < 5)
        c.problems.push(`forged accepted: ${r.kind}`);
      const r2 = await bob.kw.handleToDeviceEvent(i % 2 === 0 ? forged2 : forged);
      if (r2.kind !== "rejected" && c.problems.length < 5)
        c.problems.push(`forged accepted at bob: ${r2.kind}`);
    }
    c.forgedClaims = claimsBy("bob") + claimsBy("alice");

    // 2. Genuine, within one hour.
    const start = world.clock.now;
    let newSessions = 0;
    for (let i = 0; i < sizes.genuine; i += 1) {
      world.clock.now = start + Math.floor((i * (HOUR - 1)) / sizes.genuine);
      const r = await bob.kw.handleToDeviceEvent(genuine);
      c.notices += 1;
      if (r.kind === "noOlmNotice" && r.reply === "newSession") newSessions += 1;
    }
    c.newSessions = newSessions;
    c.claims = claimsBy("bob");
    if (c.claims > 1) c.problems.push(`bob claimed ${c.claims} keys for one hour of notices`);

    // 3. Unknown keys (known user, unknown key) and unknown users.
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const base = genuine.content as Record<string, unknown>;
    for (let i = 0; i < sizes.unknown; i += 1) {
      const unknownUser = i % 2 === 0;
      const event = {
        type: "m.room_key.withheld",
        sender: unknownUser ? `@u${i}:example.org` : alice.device.userId,
        content: { ...base, sender_key: keyFor(i), from_device: `D${i}` },
      };
      const r = await bob.kw.handleToDeviceEvent(event);
      c.unknownNotices += 1;
      if (r.kind !== "rejected" && c.problems.length < 5)
        c.problems.push(`unknown accepted: ${r.kind}`);
    }
    gc();
    c.heapGrowthMb =
      Math.round(((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20) * 10) / 10;
    const sample = Math.min(sizes.unknown, 1000);
    for (let i = 0; i < sample; i += 1) {
      const j = Math.floor((i * sizes.unknown) / sample);
      const state = bob.kw.peerState({
        userId: (j % 2 === 0 ? `@u${j}:example.org` : alice.device.userId) as never,
        deviceId: `D${j}` as never,
        curve25519: keyFor(j) as never,
        ed25519: alice.device.ed25519,
      });
      if (!state.ok) continue;
      const leaves = peerLeaves(state.value.value);
      if (
        leaves.olm !== "noSession" ||
        leaves.reply !== "idle" ||
        state.value.context.noticeId !== 0
      )
        c.unknownWithState += 1;
    }
    c.problems.push(...world.violations().slice(0, 3));
  } finally {
    world.close();
  }
  return c;
}
