import type { AnyStateMachine } from "xstate";
import { type GraphState, type GraphTransition, machineGraph } from "./machineGraph.js";

/*
 * Renders a machine as a Mermaid state diagram, straight from its definition: every state node,
 * every transition in priority order, its guard and its actions. Reviewers read this instead of
 * a hand-drawn picture, and a test keeps the committed copy equal to what this produces.
 */

const mermaidId = (id: string): string => id.replaceAll(".", "_");

function transitionLabel(t: GraphTransition): string {
  const order = t.alternatives > 1 ? `${t.rank}. ` : "";
  const guard = t.guard === undefined ? "" : ` [${t.guard}]`;
  const actions = t.actions.map((a) => a.name);
  return `${order}${t.event}${guard}${actions.length > 0 ? ` / ${actions.join(", ")}` : ""}`;
}

function renderState(state: GraphState, indent: string, lines: string[]): void {
  const id = mermaidId(state.id);
  if (state.kind === "atomic") {
    lines.push(`${indent}state "${state.key}" as ${id}`);
    return;
  }
  lines.push(
    `${indent}state "${state.key}${state.kind === "parallel" ? " (parallel)" : ""}" as ${id} {`,
  );
  state.children.forEach((child, i) => {
    if (state.kind === "parallel" && i > 0) lines.push(`${indent}  --`);
    renderState(child, `${indent}  `, lines);
  });
  if (state.initial !== undefined) lines.push(`${indent}  [*] --> ${mermaidId(state.initial)}`);
  lines.push(`${indent}}`);
}

/** The machine as Mermaid `stateDiagram-v2` source (labels `EVENT [guard] / actions`). */
export function mermaidStateDiagram(machine: AnyStateMachine): string {
  const graph = machineGraph(machine);
  const lines = ["stateDiagram-v2"];
  renderState(graph.root, "  ", lines);
  for (const t of graph.transitions) {
    lines.push(`  ${mermaidId(t.source)} --> ${mermaidId(t.target)} : ${transitionLabel(t)}`);
  }
  return `${lines.join("\n")}\n`;
}
