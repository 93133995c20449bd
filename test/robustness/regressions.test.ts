import { describe, expect, it } from "vitest";
import { createKeyWithholding, openKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import { initialPeerSnapshot, restorePeerSnapshot } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import type { KeyWithholdingStore } from "../../src/store/keyWithholdingStore.js";
import { coordinatorFixture } from "./harness/fuzz.js";
import { buildHostile } from "./harness/hostile.js";

/* Counterexamples found by the robustness fuzzer. Each fails until src is fixed. */

describe("restorePeerSnapshot reads untrusted input without throwing", () => {
  it.each(["revokedProxy", "throwingProxy", "throwingGetters"] as const)("%s", (kind) => {
    const read = () => restorePeerSnapshot(buildHostile(kind));
    expect(read).not.toThrow();
  });
  it("a persisted snapshot whose value.olm getter throws", () => {
    const value = Object.defineProperty({ reply: "idle" }, "olm", {
      enumerable: true,
      get() {
        throw new Error("hostile getter");
      },
    });
    expect(() =>
      restorePeerSnapshot({ v: 1, value, context: initialPeerSnapshot.context }),
    ).not.toThrow();
  });
});

describe("stepPeer never throws, whatever snapshot it is handed", () => {
  it.each([
    ["a boolean", true],
    ["an array", [true, null]],
    [
      "an unknown state value",
      { value: { olm: "0", reply: "idle" }, context: initialPeerSnapshot.context },
    ],
  ])("%s", (_, snapshot) => {
    expect(() => stepPeer(snapshot as never, { type: "RESUMED", at: 1 })).not.toThrow();
  });
});

describe("a store returning a hostile value never makes a method throw", () => {
  it("openKeyWithholding over a store whose load answers a revoked Proxy, or rows of one", async () => {
    const fx = await coordinatorFixture();
    try {
      const bob = fx.world.device("bob");
      const hostile = () => buildHostile("revokedProxy") as never;
      const stores: KeyWithholdingStore[] = [
        { loadOlm: async () => undefined, load: async () => hostile(), commit: async () => {} },
        {
          loadOlm: async () => undefined,
          load: async () => ({
            peers: [["k", hostile()], hostile()] as never,
            requests: [hostile()],
            sessionNotices: [hostile()],
            received: [hostile()],
            protocolTime: hostile(),
          }),
          commit: async () => {},
        },
      ];
      const results = [];
      for (const store of stores) {
        const opened = await openKeyWithholding({
          olm: bob.olm,
          transport: fx.world.hs.transportFor(bob.device.userId, bob.device.deviceId),
          devices: bob.directory,
          store,
        });
        results.push(opened.ok ? "opened" : opened.reason);
        const peer = fx.known[0];
        if (opened.ok && peer !== undefined)
          expect(() => opened.value.peerState(peer)).not.toThrow();
      }
      expect(results).toEqual(["storeFailed", "opened"]);
    } finally {
      fx.world.close();
    }
  });
});

describe("an async onHookError that rejects is not left unhandled", () => {
  it("a rejecting onPeerStateChange reported to a rejecting onHookError", async () => {
    const fx = await coordinatorFixture();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      const bob = fx.world.device("bob");
      const reject = () => Promise.reject(new Error("hook rejects"));
      const created = createKeyWithholding({
        olm: bob.olm,
        transport: fx.world.hs.transportFor(bob.device.userId, bob.device.deviceId),
        devices: bob.directory,
        callTimeoutMs: 20,
        hooks: { onPeerStateChange: reject, onHookError: reject },
      });
      if (!created.ok) throw new Error(created.detail);
      const peer = fx.known[0];
      if (peer === undefined) throw new Error("no peer");
      await created.value.reportShareOutcomes([{ device: peer, outcome: "failed" }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", listener);
      fx.world.close();
    }
  });
});
