import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate";

/*
 * One walk of a machine definition, shared by every diagram renderer (Mermaid, DOT): its state
 * tree, and every transition in priority order with its guard and its actions. Renderers only
 * lay this out, so two drawings of the same machine cannot disagree about what it does.
 */

/** A state node of the machine, with its children in definition order. */
export interface GraphState {
  /** The node's id with dots (`peer.olm.noSession`), unique in the machine. */
  readonly id: string;
  /** Its key within its parent (`noSession`). */
  readonly key: string;
  readonly kind: "atomic" | "compound" | "parallel";
  /** A compound node's initial child (its id), or undefined. */
  readonly initial: string | undefined;
  readonly children: readonly GraphState[];
}

/**
 * An action on a transition. `command`s are handed to the shell (they have no implementation in
 * the machine); `context` actions are `assign`s that update the machine's own numbers.
 */
export interface GraphAction {
  readonly name: string;
  readonly kind: "command" | "context";
}

/** One transition from `source` to one of its targets (a targetless one: to `source`). */
export interface GraphTransition {
  readonly source: string;
  readonly target: string;
  /** False when the transition has no target: no state is left or entered. */
  readonly changesState: boolean;
  readonly event: string;
  readonly guard: string | undefined;
  readonly actions: readonly GraphAction[];
  /** 1-based priority among the transitions of `source` for `event`. */
  readonly rank: number;
  /** How many transitions `source` has for `event`; ranks matter only when this is above 1. */
  readonly alternatives: number;
}

export interface MachineGraph {
  readonly root: GraphState;
  readonly transitions: readonly GraphTransition[];
}

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

function actionName(action: unknown): string {
  if (typeof action === "string") return action;
  if (typeof action === "object" && action !== null && "type" in action) {
    return String((action as { type: unknown }).type);
  }
  return typeof action === "function" && action.name ? action.name : "action";
}

// XState marks the functions `assign()` returns with this type; everything else is a command.
const isAssign = (implementation: unknown): boolean =>
  typeof implementation === "function" &&
  (implementation as { type?: unknown }).type === "xstate.assign";

function stateOf(node: AnyStateNode): GraphState {
  const children = (Object.values(node.states) as AnyStateNode[]).map(stateOf);
  const kind = node.type === "parallel" ? "parallel" : children.length > 0 ? "compound" : "atomic";
  const initial =
    kind === "compound" ? (node.initial.target[0] as AnyStateNode | undefined)?.id : undefined;
  return { id: node.id, key: node.key, kind, initial, children };
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...(Object.values(node.states) as AnyStateNode[]).flatMap(allNodes)];
}

/** Walks `machine`'s definition: states depth-first, transitions per node in priority order. */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const implementations = machine.implementations.actions as Record<string, unknown>;
  const action = (a: unknown): GraphAction => {
    const name = actionName(a);
    return { name, kind: isAssign(implementations[name]) ? "context" : "command" };
  };
  const transitions: GraphTransition[] = [];
  for (const node of allNodes(machine.root)) {
    for (const candidates of node.transitions.values()) {
      candidates.forEach((t: AnyTransitionDefinition, i) => {
        const targets = (t.target ?? [node]) as AnyStateNode[];
        for (const target of targets) {
          transitions.push({
            source: node.id,
            target: target.id,
            changesState: t.target !== undefined,
            event: t.eventType,
            guard: t.guard === undefined ? undefined : describeGuard(t.guard),
            actions: (t.actions ?? []).map(action),
            rank: i + 1,
            alternatives: candidates.length,
          });
        }
      });
    }
  }
  return { root: stateOf(machine.root), transitions };
}

/** Every state of the tree, depth-first, the root first. */
export function allStates(state: GraphState): GraphState[] {
  return [state, ...state.children.flatMap(allStates)];
}
