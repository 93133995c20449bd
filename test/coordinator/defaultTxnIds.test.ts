import { afterEach, describe, expect, it, vi } from "vitest";
import { randomHex } from "../../src/coordinator/outbox.js";
import { deliveredTo, makeWorld, ROOM, type World } from "./worldFixture.js";

/*
 * Default txnIds come from `crypto.getRandomValues`: `crypto.randomUUID` exists only in secure
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

  it("an m.no_olm goes out under a fresh mkw.<hex> txnId", async () => {
    world = await makeWorld({ alice: 0, bob: 0 });
    const getRandomValues = insecureContextCrypto();
    const [alice, bob] = [world.device("alice"), world.device("bob")];
    await alice.shareRoomKey(ROOM, [bob.device]);
    const delivered = deliveredTo(world.hs, "m.room_key.withheld", bob.device.userId);
    expect(delivered.map((m) => m.txnId)).toEqual([expect.stringMatching(/^mkw\.[0-9a-f]{32}$/)]);
    expect(getRandomValues).toHaveBeenCalled();
  });
});
