import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateDiagramFiles } from "../../scripts/diagramFiles.js";
import { dotStateDiagram } from "../../src/diagrams/dotStateDiagram.js";
import { machineGraph } from "../../src/diagrams/machineGraph.js";
import { renderSvg } from "../../src/diagrams/renderSvg.js";
import { peerMachine } from "../../src/machine/peerMachine.js";

const committed = (path: string): string | undefined => {
  try {
    return readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
  } catch {
    return undefined;
  }
};

describe("generated diagrams (npm run diagrams)", () => {
  it("every committed file is what the code generates now", async () => {
    const files = await generateDiagramFiles();
    const stale = files.filter((f) => committed(f.path) !== f.content).map((f) => f.path);
    expect(
      stale,
      `${stale.join(", ")} differ from what the code generates: run npm run diagrams`,
    ).toEqual([]);
    expect(files.map((f) => f.path)).toEqual([
      "docs/diagrams/peer-machine.md",
      "docs/diagrams/peer-machine.dot",
      "docs/diagrams/peer-machine.svg",
      "docs/diagrams/demo-sequence.md",
      "docs/diagrams/demo.html",
    ]);
  });

  it("generates the same files twice (the SVG and the demo's trace included)", async () => {
    const [first, second] = [await generateDiagramFiles(), await generateDiagramFiles()];
    expect(second).toEqual(first);
  });

  it("the demo's sequence shows what crossed the network, normalised", async () => {
    const page = (await generateDiagramFiles()).find((f) => f.path.endsWith("demo-sequence.md"));
    const text = page?.content ?? "";
    for (const expected of [
      "participant hs as homeserver (double)",
      "alice->>hs: PUT /sendToDevice/m.room_key.withheld/txn1<br/>m.no_olm to bob/BOBLAPTOP",
      "POST /keys/claim for alice/ALICEPHONE",
      "hs--xalice: unreachable",
      "Olm pre-key message",
      "(DUMMY_QUEUED)",
    ]) {
      expect(text).toContain(expected);
    }
    // No random txnId (UUIDs), temp path or key material reaches the page.
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|\/tmp\/|mkw-demo|curve25519:/);
  });

  it("the demo's HTML page is normalised too: no txnId, temp path or key", async () => {
    const files = await generateDiagramFiles();
    const page = files.find((f) => f.path === "docs/diagrams/demo.html")?.content ?? "";
    expect(page).toContain('<svg class="sequence"');
    expect(page).toContain("PUT /sendToDevice/m.room_key.withheld/txn1");
    expect(page).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|\/tmp\/|mkw-demo|curve25519:/);
  });
});

describe("the DOT rendering", () => {
  const dot = dotStateDiagram(peerMachine);
  const graph = machineGraph(peerMachine);

  it("draws each state-changing transition as an edge and lists every other one in its state", () => {
    const edges = dot.split("\n").filter((l) => / -> /.test(l) && l.includes("label="));
    const moving = graph.transitions.filter((t) => t.changesState);
    expect(edges).toHaveLength(moving.length);
    const internalRows = dot.match(/<tr><td align="left"><font point-size="11">/g) ?? [];
    expect(internalRows).toHaveLength(graph.transitions.length - moving.length);
  });

  it("has a cluster per compound or parallel state and sets commands apart from context updates", () => {
    for (const cluster of ["cluster_peer", "cluster_peer_olm", "cluster_peer_reply"]) {
      expect(dot).toContain(`subgraph ${cluster} {`);
    }
    expect(dot).toContain("cluster_peer_olm_unreachable");
    expect(dot).toContain("cluster_peer_reply_replying");
    expect(dot).toMatch(/<font color="#b3261e"><b>sendNoOlm\(\)<\/b><\/font>/);
    expect(dot).toMatch(/<font color="#5f6368">startEpisode<\/font>/);
  });

  it("classifies actions from the machine: assign is context, the rest are commands", () => {
    const kinds = new Map(graph.transitions.flatMap((t) => t.actions.map((a) => [a.name, a.kind])));
    expect(kinds.get("recordNotice")).toBe("context");
    expect(kinds.get("claimKeyAndSendDummy")).toBe("command");
    expect(kinds.get("skipClaim")).toBe("command");
  });

  it("Graphviz refuses a broken graph, so a bad rendering cannot be committed quietly", async () => {
    await expect(renderSvg("digraph { a -> }")).rejects.toThrow(/graphviz/);
  });
});
