import type { AnyStateMachine } from "xstate";
import {
  allStates,
  type GraphAction,
  type GraphState,
  type GraphTransition,
  machineGraph,
} from "./machineGraph.js";

/*
 * Renders the same walk as mermaidStateDiagram as Graphviz DOT, for an SVG a reviewer can open
 * without a browser-side renderer. Layout choices, all for reading:
 * - every compound or parallel state is a cluster, so the two regions and nested states show as
 *   boxes inside boxes; an edge into a compound state ends on its border (`lhead`);
 * - a transition that changes no state is written inside its state (UML's internal transitions)
 *   instead of as a self-loop, which keeps the arrows for what moves the machine;
 * - labels read `EVENT [guard] / actions`, with commands for the shell in bold red as `name()` and
 *   context updates in grey, as the legend says.
 */

const COMMAND_COLOR = "#b3261e";
const CONTEXT_COLOR = "#5f6368";
const GUARD_COLOR = "#1a5fb4";
// Graphviz lays text out with built-in metrics for a few fonts only, and a viewer without the
// font substitutes another. Every label is an identifier, so all of it is monospace: any
// monospace font has Courier's widths, and text stays inside its box whatever the viewer has.
const FONT = "Courier";

const escapeHtml = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const quote = (id: string): string => `"${id.replaceAll('"', '\\"')}"`;
const clusterId = (id: string): string => `cluster_${id.replaceAll(".", "_")}`;

const formatCommand = (a: GraphAction) =>
  `<font color="${COMMAND_COLOR}"><b>${escapeHtml(a.name)}()</b></font>`;
const formatContext = (a: GraphAction) =>
  `<font color="${CONTEXT_COLOR}">${escapeHtml(a.name)}</font>`;

function trigger(t: GraphTransition): string {
  const order = t.alternatives > 1 ? `${t.rank}. ` : "";
  const guard =
    t.guard === undefined ? "" : ` <font color="${GUARD_COLOR}">[${escapeHtml(t.guard)}]</font>`;
  return `<b>${order}${escapeHtml(t.event)}</b>${guard}`;
}

/** An edge label: trigger, then context updates, then commands, one group per line. */
function edgeLabel(t: GraphTransition): string {
  const context = t.actions.filter((a) => a.kind === "context").map(formatContext);
  const commands = t.actions.filter((a) => a.kind === "command").map(formatCommand);
  const lines = [trigger(t)];
  if (context.length > 0) lines.push(context.join(", "));
  if (commands.length > 0) lines.push(commands.join(", "));
  return `<${lines.join('<br align="left"/>')}<br align="left"/>>`;
}

/** One line of a state's internal transitions: `EVENT [guard] / actions`. */
function internalLine(t: GraphTransition): string {
  const actions = t.actions.map((a) =>
    a.kind === "command" ? formatCommand(a) : formatContext(a),
  );
  return `${trigger(t)}${actions.length > 0 ? ` / ${actions.join(", ")}` : ""}`;
}

/** A state's title above its internal transitions, as an HTML table (for nodes and clusters). */
function stateLabel(title: string, internal: readonly GraphTransition[]): string {
  const rows = internal.map(
    (t) => `<tr><td align="left"><font point-size="11">${internalLine(t)}</font></td></tr>`,
  );
  if (rows.length === 0) return `<<b>${escapeHtml(title)}</b>>`;
  return [
    `<<table border="0" cellborder="0" cellspacing="1" cellpadding="2">`,
    `<tr><td><b>${escapeHtml(title)}</b></td></tr>`,
    `<tr><td><font point-size="10" color="${CONTEXT_COLOR}">on, staying in this state:</font></td></tr>`,
    ...rows,
    "</table>>",
  ].join("");
}

const startOf = (id: string): string => `${id}.[*]`;

// An edge leaving a compound state starts at one of its leaves, clipped at the cluster's border.
function leafOf(id: string, states: ReadonlyMap<string, GraphState>): string {
  const state = states.get(id);
  if (state === undefined || state.kind === "atomic") return id;
  return leafOf(state.initial ?? state.children[0]?.id ?? id, states);
}

// An edge entering a compound state aims at its start dot (entering it starts there), near the
// cluster's top, so the clipped edge and its label stay outside the cluster.
function entryOf(id: string, states: ReadonlyMap<string, GraphState>): string {
  const state = states.get(id);
  if (state?.initial !== undefined) return startOf(id);
  return leafOf(id, states);
}

function renderState(
  state: GraphState,
  internal: ReadonlyMap<string, GraphTransition[]>,
  indent: string,
  lines: string[],
): void {
  const own = internal.get(state.id) ?? [];
  if (state.kind === "atomic") {
    lines.push(`${indent}${quote(state.id)} [label=${stateLabel(state.key, own)}];`);
    return;
  }
  const title = state.kind === "parallel" ? `${state.key} (parallel regions)` : state.key;
  lines.push(`${indent}subgraph ${clusterId(state.id)} {`);
  lines.push(`${indent}  label=${stateLabel(title, own)};`);
  lines.push(
    state.kind === "parallel"
      ? `${indent}  style="rounded,dashed"; color="#888888"; bgcolor="#fbfbfb";`
      : `${indent}  style="rounded"; color="#555555"; bgcolor="#f1f4f8";`,
  );
  if (state.initial !== undefined) {
    const start = quote(startOf(state.id));
    lines.push(`${indent}  ${start} [shape=point, width=0.12, fillcolor="#333333", label=""];`);
    lines.push(`${indent}  ${start} -> ${quote(state.initial)} [arrowsize=0.6];`);
  }
  for (const child of state.children) renderState(child, internal, `${indent}  `, lines);
  if (state.kind === "parallel") lines.push(...stackRegions(state, `${indent}  `));
  lines.push(`${indent}}`);
}

const leaves = (state: GraphState): GraphState[] =>
  state.kind === "atomic" ? [state] : state.children.flatMap(leaves);

// Regions side by side make a picture several screens wide: invisible edges from every leaf of
// one region to the next region's start put the regions one under the other.
function stackRegions(state: GraphState, indent: string): string[] {
  return state.children.slice(1).flatMap((region, i) => {
    const previous = state.children[i];
    if (previous === undefined || region.initial === undefined) return [];
    return leaves(previous).map(
      (leaf) => `${indent}${quote(leaf.id)} -> ${quote(startOf(region.id))} [style=invis];`,
    );
  });
}

function renderEdge(t: GraphTransition, states: ReadonlyMap<string, GraphState>): string {
  const attributes = [`label=${edgeLabel(t)}`];
  const tail = leafOf(t.source, states);
  const head = entryOf(t.target, states);
  if (tail !== t.source) attributes.push(`ltail=${clusterId(t.source)}`);
  if (head !== t.target) attributes.push(`lhead=${clusterId(t.target)}`);
  return `  ${quote(tail)} -> ${quote(head)} [${attributes.join(", ")}];`;
}

const LEGEND = [
  "  legend [shape=plain, label=<",
  '<table border="1" cellborder="0" cellspacing="0" cellpadding="4" color="#aaaaaa">',
  `<tr><td align="left"><b>EVENT</b> <font color="${GUARD_COLOR}">[guard]</font></td></tr>`,
  `<tr><td align="left"><font color="${CONTEXT_COLOR}">context update</font> (assign in the machine)</td></tr>`,
  `<tr><td align="left"><font color="${COMMAND_COLOR}"><b>command()</b></font> for the shell, answered by an event</td></tr>`,
  '<tr><td align="left">1., 2., ...: alternatives tried in order</td></tr>',
  "</table>>];",
];

/** The machine as Graphviz DOT: clusters for regions and compound states, internal transitions inside states. */
export function dotStateDiagram(machine: AnyStateMachine): string {
  const graph = machineGraph(machine);
  const states = new Map(allStates(graph.root).map((s) => [s.id, s] as const));
  const internal = new Map<string, GraphTransition[]>();
  for (const t of graph.transitions.filter((t) => !t.changesState)) {
    internal.set(t.source, [...(internal.get(t.source) ?? []), t]);
  }
  const lines = [
    `digraph ${quote(graph.root.id)} {`,
    `  graph [rankdir=TB, compound=true, newrank=true, fontname="${FONT}", fontsize=15, nodesep=0.35, ranksep=0.55, pad=0.3];`,
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#333333", fontname="${FONT}", fontsize=13, margin="0.12,0.06"];`,
    `  edge [fontname="${FONT}", fontsize=11, color="#444444", arrowsize=0.7];`,
  ];
  renderState(graph.root, internal, "  ", lines);
  for (const t of graph.transitions.filter((t) => t.changesState))
    lines.push(renderEdge(t, states));
  lines.push(...LEGEND, "}");
  return `${lines.join("\n")}\n`;
}
