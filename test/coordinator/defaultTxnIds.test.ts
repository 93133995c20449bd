import { afterEach, describe, expect, it, vi } from "vitest";
import { randomHex, randomTxnIds } from "../../src/coordinator/outbox.js";
import { deliveredTo, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Default txnIds are a random prefix per coordinator plus a counter. The prefix comes from
 * `crypto.getRandomValues`: `crypto.randomUUID` exists only in secure
 * contexts (a page served over plain http has none), so it must not be needed.
 */
const realCrypto = globalThis.crypto;
/** What a non-secure browser context offers: getRandomValues, and no randomUUID. */
const insecureContextCrypto = () => {
  const getRandomValues = vi.fn((array: Uint8Array) => realCrypto.getRandomValues(array));
  vi.stubGlobal("crypto", { getRandomValues });
  return getRandomValues;
};

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
  vi.unstubAllGlobals();
});

describe("default txnIds without crypto.randomUUID", () => {
  it("randomHex draws its bytes from getRandomValues", () => {
    const getRandomValues = insecureContextCrypto();
    const id = randomHex(16);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(getRandomValues).toHaveBeenCalledTimes(1);
    expect(randomHex(16)).not.toBe(id);
  });

  it("a source draws its prefix once; every id is fresh, another source has another prefix", () => {
    const getRandomValues = insecureContextCrypto();
    const first = randomTxnIds();
    const ids = Array.from({ length: 1000 }, () => first());
    expect(getRandomValues).toHaveBeenCalledTimes(1);
    expect(new Set(ids).size).toBe(ids.length);
    const prefix = /^(mkw\.[0-9a-f]{32}\.)\d+$/.exec(ids[0] ?? "")?.[1];
    expect(prefix).toBeDefined();
    for (const id of ids) expect(id.startsWith(prefix ?? "?")).toBe(true);
    expect(randomTxnIds()().startsWith(prefix ?? "?")).toBe(false);
  });

  it("m.no_olm notices go out under mkw.<hex>.<n> txnIds drawn without randomUUID", async () => {
    const getRandomValues = insecureContextCrypto();
    world = await makeWorld({ alice: 0, bob: 0, carol: 0 });
    const [alice, bob, carol] = [world.device("alice"), world.device("bob"), world.device("carol")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    await alice.shareRoomKey(ROOM, [carol.device]);
    const txnIds = [
      ...deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId),
      ...deliveredTo(world.hs, "m.room_key.withheld", carol.device.userId),
    ].map((m) => m.txnId);
    expect(txnIds).toEqual([
      expect.stringMatching(/^mkw\.[0-9a-f]{32}\.\d+$/),
      expect.stringMatching(/^mkw\.[0-9a-f]{32}\.\d+$/),
    ]);
    expect(new Set(txnIds).size).toBe(2);
    expect(getRandomValues).toHaveBeenCalled();
  });
});
