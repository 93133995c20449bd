import { test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { PeerCommand } from "../../src/machine/peerCommands.js";
import { initialPeerSnapshot, type PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { roundTrip } from "../../src/testing/model/drivePeerMachine.js";
import {
  lockstepWithModel,
  type PeerRulesUnderTest,
} from "../../src/testing/model/lockstepWithModel.js";
import { runArb } from "../../src/testing/model/peerRunArbitraries.js";

/** The library's own machine, seen through the adapter a client would write for its own. */
function machineAdapter(mutate?: (commands: readonly PeerCommand[]) => readonly PeerCommand[]) {
  let snapshot: PeerSnapshot = initialPeerSnapshot;
  const adapter: PeerRulesUnderTest = {
    apply(event) {
      const result = stepPeer(snapshot, event);
      snapshot = result.snapshot;
      if (result.kind !== "applied") return { kind: result.kind };
      return { kind: "applied", commands: mutate?.(result.commands) ?? result.commands };
    },
    restart() {
      snapshot = roundTrip(snapshot);
    },
  };
  return adapter;
}

describe("lockstepWithModel: a client's implementation against the reference model", () => {
  test.prop([runArb])("the library's machine agrees with the model on every run", (run) => {
    const disagreement = lockstepWithModel(run, machineAdapter());
    expect(disagreement?.trace).toBeUndefined();
  });

  test.prop([runArb])("an implementation that sends every m.no_olm twice is caught", (run) => {
    const doubled = machineAdapter((commands) =>
      commands.flatMap((c): PeerCommand[] => (c.type === "sendNoOlm" ? [c, c] : [c])),
    );
    const sendsNotice = (commands: readonly PeerCommand[]) =>
      commands.some((c) => c.type === "sendNoOlm");
    const disagreement = lockstepWithModel(run, doubled);
    // Caught exactly when the run starts an episode, at the step that starts it.
    if (disagreement === undefined) return;
    expect(sendsNotice(disagreement.expected.commands)).toBe(true);
    expect(disagreement.actual.commands.length).toBe(disagreement.expected.commands.length + 1);
  });

  test("a run that starts an episode exposes the doubled notice", () => {
    const run = {
      start: 0,
      steps: [{ clock: { k: "same" }, action: { a: "fail" }, extra: false }],
    } as const;
    const doubled = machineAdapter((commands) =>
      commands.flatMap((c): PeerCommand[] => (c.type === "sendNoOlm" ? [c, c] : [c])),
    );
    expect(lockstepWithModel(run, doubled)?.index).toBe(0);
    expect(lockstepWithModel(run, machineAdapter())).toBeUndefined();
  });
});
