import {
  type Curve25519PublicKey,
  type DeviceId,
  type Ed25519PublicKey,
  type PeerDevice,
  parseCurve25519PublicKey,
  parseEd25519PublicKey,
  type ShareOutcome,
  type UserId,
} from "../src/index.js";

/*
 * The bench's devices: `count` peer devices of count / 5 users (5 each) on 100 homeservers, and
 * a seeded 10 % of them failing, spread over users (a shuffle, so a user has 0 to 5 failing
 * devices). Keys are valid, unique, and the same on every run.
 */

export const DEVICES_PER_USER = 5;
export const FAILING_SHARE = 0.1;

export interface Population {
  readonly devices: readonly PeerDevice[];
  /** failing[i] === 1: device i's share outcome is "failed". */
  readonly failing: Uint8Array;
  readonly failingCount: number;
  readonly users: number;
}

export const OWN_USER = "@bench:own.example.org" as UserId;
export const OWN_DEVICE_ID = "BENCHOWNDEVICE" as DeviceId;

/** A valid unpadded base64 key of 32 bytes, unique per (tag, index). */
function key32(tag: number, index: number): string {
  const bytes = Buffer.alloc(32);
  bytes[0] = tag;
  bytes.writeUInt32BE(index, 1);
  // A little noise so keys do not share long prefixes (hash tables see realistic keys).
  let x = (index + 1) * 2654435761;
  for (let i = 5; i < 32; i++) {
    x = (x ^ (x >>> 13)) * 1274126177;
    bytes[i] = x & 0xff;
  }
  return bytes.toString("base64").slice(0, 43);
}

export function curveKey(tag: number, index: number): Curve25519PublicKey {
  const parsed = parseCurve25519PublicKey(key32(tag, index));
  if (!parsed.ok) throw new Error(`bench key ${tag}/${index}: ${parsed.detail}`);
  return parsed.value;
}

export function edKey(tag: number, index: number): Ed25519PublicKey {
  const parsed = parseEd25519PublicKey(key32(tag, index));
  if (!parsed.ok) throw new Error(`bench key ${tag}/${index}: ${parsed.detail}`);
  return parsed.value;
}

export const ownDevice: PeerDevice = Object.freeze({
  userId: OWN_USER,
  deviceId: OWN_DEVICE_ID,
  curve25519: curveKey(250, 0),
  ed25519: edKey(251, 0),
});

/** mulberry32: a small seeded PRNG, so every run fails the same devices. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makePopulation(count: number, seed = 8): Population {
  const devices: PeerDevice[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const user = Math.floor(i / DEVICES_PER_USER);
    devices[i] = Object.freeze({
      userId: `@user${user}:hs${user % 100}.example.org` as UserId,
      deviceId: `DEV${i.toString(36).toUpperCase().padStart(7, "0")}` as DeviceId,
      curve25519: curveKey(1, i),
      ed25519: edKey(2, i),
    });
  }
  const failingCount = Math.round(count * FAILING_SHARE);
  const order = Array.from({ length: count }, (_, i) => i);
  const random = seeded(seed);
  for (let i = 0; i < failingCount; i++) {
    const j = i + Math.floor(random() * (count - i));
    const picked = order[j] ?? j;
    order[j] = order[i] ?? i;
    order[i] = picked;
  }
  const failing = new Uint8Array(count);
  for (let i = 0; i < failingCount; i++) failing[order[i] ?? 0] = 1;
  return { devices, failing, failingCount, users: Math.ceil(count / DEVICES_PER_USER) };
}

/** The share outcome of the bench: 10 % failed, the rest established. */
export function shareOutcomes(population: Population): ShareOutcome[] {
  const { devices, failing } = population;
  return devices.map((device, i) => ({
    device,
    outcome: failing[i] === 1 ? "failed" : "established",
  }));
}

/** Every device with one outcome. */
export const allOutcomes = (
  devices: readonly PeerDevice[],
  outcome: ShareOutcome["outcome"],
): ShareOutcome[] => devices.map((device) => ({ device, outcome }));
