import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Olm from "@matrix-org/olm";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import { parseDeviceId, parseUserId } from "../../src/events/matrixIds.js";
import { LibolmBackend } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";

/*
 * libolm objects live in the wasm heap, which JS garbage collection never frees, and a wasm
 * memory only ever grows. So the heap's size is a leak detector: run many full lifecycles, and
 * if anything (accounts, sessions, evicted sessions, libolm's Utility) were not freed, the heap
 * would have to grow by kilobytes per iteration. libolm does not export its memory; emscripten's
 * `instantiateWasm` hook hands it to us, provided this file initialises libolm before anything
 * else in this worker does (vitest runs each test file in its own isolated worker). The last test
 * leaks on purpose, to show that the measurement does see a leak.
 */
// The project compiles without the DOM library, so the little of WebAssembly used here is typed here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  instantiate(
    bytes: Uint8Array,
    imports: unknown,
  ): Promise<{ instance: WasmInstance; module: unknown }>;
}
interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}
const wasm = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

let memory: WasmMemory | undefined;
const wasmPath = createRequire(import.meta.url).resolve("@matrix-org/olm/olm.wasm");
await Olm.init({
  instantiateWasm(imports: unknown, done: (instance: WasmInstance, module: unknown) => void) {
    void wasm.instantiate(readFileSync(wasmPath), imports).then(({ instance, module }) => {
      memory = Object.values(instance.exports).find(
        (value): value is WasmMemory => value instanceof wasm.Memory,
      );
      done(instance, module);
    });
    return {};
  },
});

function heapBytes(): number {
  if (memory === undefined)
    throw new Error("libolm was initialised before this file could see its memory");
  return memory.buffer.byteLength;
}

const KiB = 1024;
// A leaked account is about 8.5 KiB and a session about 3.7 KiB (FINDINGS.md, 04-olm-memory).
const NO_LEAK_BOUND = 256 * KiB;

async function create(name: string, maxSessionsPerDevice?: number): Promise<LibolmBackend> {
  return unwrap(
    await LibolmBackend.create({
      userId: unwrap(parseUserId(`@${name}:example.org`)),
      deviceId: unwrap(parseDeviceId(name.toUpperCase())),
      ...(maxSessionsPerDevice === undefined ? {} : { maxSessionsPerDevice }),
    }),
  );
}

function claim(owner: LibolmBackend) {
  const [entry] = Object.entries(unwrap(owner.generateOneTimeKeys(1)));
  if (entry === undefined) throw new Error("no one-time key");
  return { keyId: entry[0], keyObject: entry[1] };
}

/** Two devices that open a session, talk both ways (verifying a key signature on the way). */
async function conversation(): Promise<[LibolmBackend, LibolmBackend]> {
  const alice = await create("alice");
  const bob = await create("bob");
  unwrap(alice.createOutboundSession(bob.ownDevice, claim(bob)));
  const hello = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {})) as unknown as JsonObject;
  unwrap(bob.decrypt(alice.ownDevice, hello));
  const answer = unwrap(bob.encrypt(alice.ownDevice, "m.dummy", {})) as unknown as JsonObject;
  unwrap(alice.decrypt(bob.ownDevice, answer));
  return [alice, bob];
}

async function growthOver(iterations: number, step: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 10; i += 1) await step(); // let the allocator reach its working size
  const before = heapBytes();
  for (let i = 0; i < iterations; i += 1) await step();
  return heapBytes() - before;
}

describe("wasm memory", () => {
  it("300 backends with sessions, disposed, leave the heap where it was", async () => {
    const growth = await growthOver(300, async () => {
      for (const backend of await conversation()) backend.dispose();
    });
    expect(growth).toBeLessThanOrEqual(NO_LEAK_BOUND);
  });

  it("evicted sessions are freed: 300 sessions through a cap of 2 leave the heap where it was", async () => {
    const alice = await create("alice", 2);
    const bob = await create("bob", 2);
    const growth = await growthOver(300, async () => {
      unwrap(alice.createOutboundSession(bob.ownDevice, claim(bob)));
      const hello = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {})) as unknown as JsonObject;
      expect(unwrap(bob.decrypt(alice.ownDevice, hello)).newSession).toBe(true);
    });
    alice.dispose();
    bob.dispose();
    expect(growth).toBeLessThanOrEqual(NO_LEAK_BOUND);
  });

  it("refused pre-key messages free the session they opened", async () => {
    const alice = await create("alice", 2);
    const bob = await create("bob");
    const carol = await create("carol");
    // Alice's curve key with Carol's signing key: the plaintext's `keys` will not match.
    const impostor = { ...alice.ownDevice, ed25519: carol.ownDevice.ed25519 };
    const growth = await growthOver(300, async () => {
      unwrap(alice.createOutboundSession(bob.ownDevice, claim(bob)));
      const hello = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {})) as unknown as JsonObject;
      expect(bob.decrypt(impostor, hello)).toMatchObject({ ok: false, reason: "payloadMismatch" });
    });
    for (const backend of [alice, bob, carol]) backend.dispose();
    expect(growth).toBeLessThanOrEqual(NO_LEAK_BOUND);
  });

  it("the measurement sees a leak: 100 backends never disposed grow the heap by over 1 MiB", async () => {
    const growth = await growthOver(100, async () => {
      await conversation();
    });
    expect(growth).toBeGreaterThan(1024 * KiB);
  });
});
