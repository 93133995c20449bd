import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate";

/*
 * Renders a machine as a Mermaid state diagram, straight from its definition: every state node,
 * every transition in priority order, its guard and its actions. Reviewers read this instead of
 * a hand-drawn picture, and a test keeps the committed copy equal to what this produces.
 */

const mermaidId = (node: AnyStateNode): string => node.id.replaceAll(".", "_");

function describeGuard(guard: unknown): string {
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") {
    const parts = (guard as { guards?: unknown[] }).guards ?? [];
    const inner = parts.map(describeGuard);
    if (guard.name === "not") return `!${inner.join("")}`;
    if (guard.name === "and") return inner.join(" && ");
    if (guard.name === "or") return inner.join(" || ");
    return guard.name || "guard";
  }
  if (typeof guard === "object" && guard !== null && "type" in guard) {
    return String((guard as { type: unknown }).type);
  }
  return "guard";
}

function describeAction(action: unknown): string {
  if (typeof action === "string") return action;
  if (typeof action === "object" && action !== null && "type" in action) {
    return String((action as { type: unknown }).type);
  }
  return typeof action === "function" && action.name ? action.name : "action";
}

function transitionLabel(t: AnyTransitionDefinition, rank: number, alternatives: number): string {
  const order = alternatives > 1 ? `${rank}. ` : "";
  const guard = t.guard === undefined ? "" : ` [${describeGuard(t.guard)}]`;
  const actions = (t.actions ?? []).map(describeAction);
  return `${order}${t.eventType}${guard}${actions.length > 0 ? ` / ${actions.join(", ")}` : ""}`;
}

function renderNode(node: AnyStateNode, indent: string, lines: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  const id = mermaidId(node);
  if (children.length === 0) {
    lines.push(`${indent}state "${node.key}" as ${id}`);
    return;
  }
  lines.push(
    `${indent}state "${node.key}${node.type === "parallel" ? " (parallel)" : ""}" as ${id} {`,
  );
  children.forEach((child, i) => {
    if (node.type === "parallel" && i > 0) lines.push(`${indent}  --`);
    renderNode(child, `${indent}  `, lines);
  });
  if (node.type === "compound" && node.initial.target[0] !== undefined) {
    lines.push(`${indent}  [*] --> ${mermaidId(node.initial.target[0])}`);
  }
  lines.push(`${indent}}`);
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...(Object.values(node.states) as AnyStateNode[]).flatMap(allNodes)];
}

export function mermaidStateDiagram(machine: AnyStateMachine): string {
  const lines = ["stateDiagram-v2"];
  renderNode(machine.root, "  ", lines);
  for (const node of allNodes(machine.root)) {
    for (const candidates of node.transitions.values()) {
      candidates.forEach((t, i) => {
        const targets = t.target ?? [node];
        for (const target of targets) {
          lines.push(
            `  ${mermaidId(node)} --> ${mermaidId(target)} : ${transitionLabel(t, i + 1, candidates.length)}`,
          );
        }
      });
    }
  }
  return `${lines.join("\n")}\n`;
}
