import { demoPageDoc } from "../examples/demo/demoPageDoc.js";
import { demoSequenceDoc } from "../examples/demo/demoSequence.js";
import { dotStateDiagram } from "../src/diagrams/dotStateDiagram.js";
import { peerMachineDoc } from "../src/diagrams/peerMachineDoc.js";
import { renderSvg } from "../src/diagrams/renderSvg.js";
import { peerMachine } from "../src/machine/peerMachine.js";

/*
 * Every file `npm run diagrams` writes, generated in memory: the script writes them, and
 * test/diagrams/generatedFiles.test.ts compares them with the committed copies.
 */

export interface GeneratedFile {
  /** Relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

export async function generateDiagramFiles(): Promise<GeneratedFile[]> {
  const dot = dotStateDiagram(peerMachine);
  return [
    { path: "docs/diagrams/peer-machine.md", content: peerMachineDoc() },
    { path: "docs/diagrams/peer-machine.dot", content: dot },
    { path: "docs/diagrams/peer-machine.svg", content: await renderSvg(dot) },
    { path: "docs/diagrams/demo-sequence.md", content: await demoSequenceDoc() },
    { path: "docs/diagrams/demo.html", content: await demoPageDoc() },
  ];
}
