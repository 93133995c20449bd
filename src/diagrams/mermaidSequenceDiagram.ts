/*
 * Renders participants and steps as a Mermaid `sequenceDiagram`. It knows nothing of the demo:
 * the demo maps its trace onto these steps (examples/demo/demoSequence.ts).
 */

/** A lifeline: `id` is used in the source, `label` is shown. */
export interface SequenceParticipant {
  readonly id: string;
  readonly label: string;
}

/** A message between two lifelines, or a note over one or more of them. */
export type SequenceStep =
  | {
      readonly kind: "message";
      readonly from: string;
      readonly to: string;
      /** `call`: a solid arrow; `reply`: a dashed one; `failed`: a dashed one ending in a cross. */
      readonly style: "call" | "reply" | "failed";
      /** Lines of text, shown one under the other. */
      readonly lines: readonly string[];
    }
  | { readonly kind: "note"; readonly over: readonly string[]; readonly lines: readonly string[] };

const ARROWS = { call: "->>", reply: "-->>", failed: "--x" } as const;

// Mermaid ends a statement at ";" and reads "#…;" as an entity code; neither may reach it raw.
const text = (lines: readonly string[]): string =>
  lines.map((line) => line.trim().replaceAll(";", ",").replaceAll("#", "no. ")).join("<br/>");

/** Mermaid source for the diagram, one statement a line. */
export function mermaidSequenceDiagram(
  participants: readonly SequenceParticipant[],
  steps: readonly SequenceStep[],
): string {
  const lines = ["sequenceDiagram"];
  for (const p of participants) lines.push(`  participant ${p.id} as ${p.label}`);
  for (const step of steps) {
    lines.push(
      step.kind === "message"
        ? `  ${step.from}${ARROWS[step.style]}${step.to}: ${text(step.lines)}`
        : `  Note over ${step.over.join(",")}: ${text(step.lines)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
