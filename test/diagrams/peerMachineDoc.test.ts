import { describe, expect, it } from "vitest";
import { peerMachineDoc } from "../../src/diagrams/peerMachineDoc.js";
import { peerMachine } from "../../src/machine/peerMachine.js";

// That the committed copy is up to date: generatedFiles.test.ts.
describe("generated diagram", () => {
  const doc = peerMachineDoc();

  it("shows every transition the machine defines", () => {
    const arrows = doc
      .split("\n")
      .filter((line) => line.includes(" --> ") && !line.includes("[*]"));
    let expected = 0;
    const visit = (node: typeof peerMachine.root): void => {
      for (const ts of node.transitions.values())
        for (const t of ts) expected += t.target?.length ?? 1;
      for (const child of Object.values(node.states)) visit(child);
    };
    visit(peerMachine.root);
    expect(arrows).toHaveLength(expected);
  });

  it("names the rules' guards and commands", () => {
    for (const name of [
      "!replyWindowOpen",
      "claimBackoffOver",
      "isCurrentNotice",
      "sendNoOlm",
      "withdrawNoOlm",
      "claimKeyAndSendDummy",
      "ensureDummyQueued",
      "DUMMY_QUEUED",
      "newSessionDummyQueued",
      "existingSessionDummyQueued",
      "SESSION_LOST",
      "CLAIM_REQUESTED",
      "CLAIM_FAILED",
      "DEVICE_CHANGED",
      "claimForShare",
      "skipClaim",
      "recordClaimFailure",
    ]) {
      expect(doc).toContain(name);
    }
  });
});
