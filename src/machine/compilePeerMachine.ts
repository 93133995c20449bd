import { type AnyStateMachine, type AnyStateNode, and, not, or, stateIn } from "xstate";
import { LEAF_PAIRS, leafPairCode } from "./leafPairs.js";
import { PEER_COMMAND_TYPES, type PeerCommand } from "./peerCommands.js";
import type { PeerContext } from "./peerContext.js";
import { PEER_EVENT_TYPES, type PeerEvent, type PeerEventType } from "./peerEvents.js";
import { OLM_LEAVES, peerStateValue, REPLY_LEAVES } from "./peerShape.js";

/*
 * The peer machine, compiled at load time into a transition table: for each pair of leaves
 * (one per region) and each event type, the candidate transitions in the order XState tries
 * them, each with its guard, its actions and the leaf it leads to. Stepping then costs a table
 * lookup, a few guard calls and the machine's own action functions: no actor, no actor system,
 * no snapshot objects (xstate's transition() builds all three on every call).
 *
 * The definition stays the one source of truth: guards and actions are the machine's own
 * implementations, and the table is read off its state nodes. The compiler accepts only what
 * the peer machine uses (a parallel root of compound regions; named, not/and/or and stateIn
 * guards; assign and parameterised command actions; no entry/exit actions, eventless or delayed
 * transitions, invocations or history) and throws at load time on anything else, so an
 * unsupported change to the machine cannot be executed wrongly. test/machine/compiledMachine
 * checks the table against xstate's transition() on every reachable shape, every event and
 * every guard outcome.
 */

/** A guard read off the machine: its outcome for a context, an event and the current leaves. */
type CompiledGuard = (context: PeerContext, event: PeerEvent, leaves: number) => boolean;

/** One action: updates the context (assign) or appends a command. */
type CompiledAction = (run: Run) => void;

interface Run {
  context: PeerContext;
  readonly event: PeerEvent;
  readonly commands: PeerCommand[];
}

interface Candidate {
  readonly guard: CompiledGuard | undefined;
  readonly actions: readonly CompiledAction[];
  /** The region whose leaf the transition sets, and that leaf; undefined: targetless. */
  readonly target: { readonly region: number; readonly leaf: number } | undefined;
}

/** Per region, the candidates from its active leaf up to the region node; then the root's. */
interface Program {
  readonly regions: readonly (readonly Candidate[])[];
  readonly root: readonly Candidate[];
}

/** A leaf pair after a step, and the context; `undefined` from `step` when nothing is enabled. */
export interface CompiledStep {
  readonly leaves: number;
  readonly context: PeerContext;
}

export interface CompiledPeerMachine {
  /**
   * Runs one event from a leaf pair and context (neither is checked: the caller holds a state
   * the machine produced). Appends the commands to `commands`, in the order the machine runs
   * them; returns undefined when no transition is enabled (xstate's transition() then returns
   * the same snapshot and no actions).
   */
  step(
    leaves: number,
    context: PeerContext,
    event: PeerEvent,
    commands: PeerCommand[],
  ): CompiledStep | undefined;
}

const COMMAND_TYPES: ReadonlySet<string> = new Set(PEER_COMMAND_TYPES);

// xstate's built-in guards are recognised by their check functions, taken from xstate itself.
const checkOf = (guard: unknown): unknown => Reflect.get(guard as object, "check");
const STATE_IN_CHECK = checkOf(stateIn({}));
const NOT_CHECK = checkOf(not(() => true));
const AND_CHECK = checkOf(and([]));
const OR_CHECK = checkOf(or([]));

export class UnsupportedMachineError extends Error {
  override readonly name = "UnsupportedMachineError";
}

const unsupported = (what: string): never => {
  throw new UnsupportedMachineError(`the peer machine compiler does not support ${what}`);
};

/** Compiles a machine of the peer machine's form (e.g. peerMachine, or it with other guards). */
export function compilePeerMachine(machine: AnyStateMachine): CompiledPeerMachine {
  const regions = checkStructure(machine.root);
  const leafNodes = regions.map((region, index) => {
    const names = index === 0 ? OLM_LEAVES : REPLY_LEAVES;
    const leaves = atomicDescendants(region);
    if (leaves.map((node) => node.key).join() !== names.join()) {
      unsupported(`region "${region.key}" with leaves ${leaves.map((node) => node.key).join()}`);
    }
    return leaves;
  });
  const compiler = new Compiler(machine, regions);
  const table = new Map<string, Program[]>();
  for (const type of machineEventTypes(machine.root)) {
    if (!PEER_EVENT_TYPES.includes(type as PeerEventType)) unsupported(`the event "${type}"`);
  }
  for (const type of PEER_EVENT_TYPES) {
    const programs = LEAF_PAIRS.map(([olm, reply]) => {
      const active = [leafNodes[0]?.[olm], leafNodes[1]?.[reply]];
      return {
        regions: regions.map((region, index) =>
          compiler.candidatesUpTo(active[index] as AnyStateNode, region, type),
        ),
        root: compiler.candidates(machine.root, type),
      };
    });
    table.set(type, programs);
  }
  return {
    step: (leaves, context, event, commands) => run(table, leaves, context, event, commands),
  };
}

function run(
  table: ReadonlyMap<string, readonly Program[]>,
  leaves: number,
  context: PeerContext,
  event: PeerEvent,
  commands: PeerCommand[],
): CompiledStep | undefined {
  const program = table.get(event.type)?.[leaves];
  if (program === undefined) return undefined;
  // Selection first, on the context before the event (as xstate): one per region, else the root.
  const selected: Candidate[] = [];
  for (const candidates of program.regions) {
    const chosen = firstEnabled(candidates, context, event, leaves);
    if (chosen !== undefined) selected.push(chosen);
  }
  if (selected.length === 0) {
    const chosen = firstEnabled(program.root, context, event, leaves);
    if (chosen === undefined) return undefined;
    selected.push(chosen);
  }
  const state: Run = { context, event, commands };
  let olm = Math.floor(leaves / REPLY_LEAVES.length);
  let reply = leaves % REPLY_LEAVES.length;
  for (const transition of selected) {
    for (const action of transition.actions) action(state);
    const { target } = transition;
    if (target === undefined) continue;
    if (target.region === 0) olm = target.leaf;
    else reply = target.leaf;
  }
  return { leaves: leafPairCode(olm, reply), context: state.context };
}

function firstEnabled(
  candidates: readonly Candidate[],
  context: PeerContext,
  event: PeerEvent,
  leaves: number,
): Candidate | undefined {
  for (const candidate of candidates) {
    if (candidate.guard === undefined || candidate.guard(context, event, leaves)) return candidate;
  }
  return undefined;
}

class Compiler {
  readonly #guards = new Map<unknown, CompiledGuard>();
  constructor(
    private readonly machine: AnyStateMachine,
    private readonly regions: readonly AnyStateNode[],
  ) {}

  /** The candidates of `node` and its ancestors up to `region`, in the order xstate tries them. */
  candidatesUpTo(node: AnyStateNode, region: AnyStateNode, type: string): Candidate[] {
    const out: Candidate[] = [];
    for (let at: AnyStateNode | undefined = node; at !== undefined; at = at.parent) {
      out.push(...this.candidates(at, type));
      if (at === region) break;
    }
    return out;
  }

  candidates(node: AnyStateNode, type: string): Candidate[] {
    const transitions = node.transitions.get(type) ?? [];
    return transitions.map((transition) => ({
      guard: transition.guard === undefined ? undefined : this.guard(transition.guard),
      actions: transition.actions.map((action) => this.action(action)),
      target: this.target(transition.source, transition.target),
    }));
  }

  guard(ref: unknown): CompiledGuard {
    const known = this.#guards.get(ref);
    if (known !== undefined) return known;
    const compiled = this.#compileGuard(ref);
    this.#guards.set(ref, compiled);
    return compiled;
  }

  #compileGuard(ref: unknown): CompiledGuard {
    if (typeof ref === "string") return this.#builtinOrNamed(this.#namedGuard(ref));
    if (typeof ref === "function") return this.#builtinOrNamed(ref);
    if (typeof ref === "object" && ref !== null && !("params" in ref)) {
      const type = Reflect.get(ref, "type");
      if (typeof type === "string") return this.#builtinOrNamed(this.#namedGuard(type));
    }
    return unsupported("a guard with params or of an unknown form");
  }

  #namedGuard(name: string): unknown {
    const implementation: unknown = Reflect.get(this.machine.implementations.guards, name);
    return implementation ?? unsupported(`the unimplemented guard "${name}"`);
  }

  #builtinOrNamed(resolved: unknown): CompiledGuard {
    if (typeof resolved !== "function") return this.guard(resolved);
    const check = checkOf(resolved);
    if (check === undefined) {
      const predicate = resolved as (args: { context: PeerContext; event: PeerEvent }) => unknown;
      return (context, event) => Boolean(predicate({ context, event }));
    }
    const inner = (): CompiledGuard[] => {
      const guards: unknown = Reflect.get(resolved, "guards");
      if (!Array.isArray(guards)) return unsupported("a composite guard without guards");
      return guards.map((guard: unknown) => this.guard(guard));
    };
    if (check === NOT_CHECK) {
      const [only] = inner();
      if (only === undefined) return unsupported("not() of nothing");
      return (context, event, leaves) => !only(context, event, leaves);
    }
    if (check === AND_CHECK) {
      const all = inner();
      return (context, event, leaves) => all.every((guard) => guard(context, event, leaves));
    }
    if (check === OR_CHECK) {
      const any = inner();
      return (context, event, leaves) => any.some((guard) => guard(context, event, leaves));
    }
    if (check === STATE_IN_CHECK) return this.#stateIn(resolved, check);
    return unsupported("a built-in guard other than not, and, or, stateIn");
  }

  /** stateIn only reads the configuration: decided per leaf pair by xstate's own check. */
  #stateIn(guard: object, check: unknown): CompiledGuard {
    const evaluate = check as (snapshot: unknown, args: unknown, params: unknown) => unknown;
    const holds = LEAF_PAIRS.map(([olm, reply]) => {
      const snapshot = this.machine.resolveState({
        value: peerStateValue(OLM_LEAVES[olm] ?? "noSession", REPLY_LEAVES[reply] ?? "idle"),
        context: this.machine.config.context,
      });
      return Boolean(evaluate(snapshot, {}, guard));
    });
    return (_context, _event, leaves) => holds[leaves] === true;
  }

  action(ref: unknown): CompiledAction {
    let name: string;
    let params: unknown;
    if (typeof ref === "string") name = ref;
    else if (
      typeof ref === "object" &&
      ref !== null &&
      typeof Reflect.get(ref, "type") === "string"
    ) {
      name = Reflect.get(ref, "type") as string;
      params = Reflect.get(ref, "params");
    } else return unsupported("an inline action");
    const implementation: unknown = Reflect.get(this.machine.implementations.actions, name);
    if (typeof implementation !== "function") return unsupported(`the action "${name}"`);
    if ("resolve" in implementation) {
      if (Reflect.get(implementation, "type") !== "xstate.assign") {
        return unsupported(`the built-in action "${name}"`);
      }
      return compileAssign(Reflect.get(implementation, "assignment"), params);
    }
    if (!COMMAND_TYPES.has(name)) return unsupported(`the action "${name}" (not a command)`);
    return compileCommand(name, params);
  }

  target(source: AnyStateNode, targets: readonly AnyStateNode[] | undefined): Candidate["target"] {
    if (targets === undefined || targets.length === 0) return undefined;
    const [only] = targets;
    if (only === undefined || targets.length > 1) return unsupported("a multi-target transition");
    const region = this.regions.findIndex((r) => isWithin(only, r));
    if (region < 0 || !isWithin(source, this.regions[region] as AnyStateNode)) {
      return unsupported(`a transition from "${source.id}" to "${only.id}" across regions`);
    }
    let leaf: AnyStateNode = only;
    while (leaf.type === "compound") {
      const [initial] = leaf.initial?.target ?? [];
      if (initial === undefined) return unsupported(`"${leaf.id}" without an initial state`);
      leaf = initial;
    }
    const names: readonly string[] = region === 0 ? OLM_LEAVES : REPLY_LEAVES;
    const index = names.indexOf(leaf.key);
    if (leaf.type !== "atomic" || index < 0) return unsupported(`the target "${leaf.id}"`);
    return { region, leaf: index };
  }
}

type Assigner = (args: { context: PeerContext; event: PeerEvent }, params: unknown) => unknown;

/** assign(): as xstate resolves it, the partial update merged into a new context. */
function compileAssign(assignment: unknown, params: unknown): CompiledAction {
  const paramsOf = paramsReader(params);
  if (typeof assignment === "function") {
    const assigner = assignment as Assigner;
    return (run) => {
      const { context, event } = run;
      const partial = assigner({ context, event }, paramsOf(context, event));
      run.context = Object.assign({}, context, partial) as PeerContext;
    };
  }
  if (typeof assignment !== "object" || assignment === null) return unsupported("this assign()");
  const entries = Object.entries(assignment);
  if (entries.every(([, value]) => typeof value !== "function")) {
    // Constants (clearBackoff, endEpisode): a context that has them already is kept as it is,
    // equal to xstate's merged copy and no allocation on the hot path.
    const partial = Object.fromEntries(entries) as Partial<PeerContext>;
    return (run) => {
      const { context } = run;
      if (entries.every(([key, value]) => Reflect.get(context, key) === value)) return;
      run.context = Object.assign({}, context, partial) as PeerContext;
    };
  }
  return (run) => {
    const { context, event } = run;
    const args = { context, event };
    const actionParams = paramsOf(context, event);
    const partial: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      partial[key] = typeof value === "function" ? (value as Assigner)(args, actionParams) : value;
    }
    run.context = Object.assign({}, context, partial) as PeerContext;
  };
}

/** A command action: its type and params are the command (params see earlier assigns). */
function compileCommand(type: string, params: unknown): CompiledAction {
  const paramsOf = paramsReader(params);
  return (run) => {
    const resolved = paramsOf(run.context, run.event);
    run.commands.push({ type, ...(resolved as object) } as PeerCommand);
  };
}

function paramsReader(params: unknown): (context: PeerContext, event: PeerEvent) => unknown {
  if (typeof params === "function") {
    const read = params as (args: { context: PeerContext; event: PeerEvent }) => unknown;
    return (context, event) => read({ context, event });
  }
  return () => params;
}

/** The root's two regions, after checking every node is of a form the compiler handles. */
function checkStructure(root: AnyStateNode): AnyStateNode[] {
  if (root.type !== "parallel") unsupported("a root that is not parallel");
  const regions = Object.values(root.states);
  if (regions.length !== 2) unsupported("other than two regions");
  const visit = (node: AnyStateNode): void => {
    if (node !== root && node.type !== "compound" && node.type !== "atomic") {
      unsupported(`the ${node.type} state "${node.id}"`);
    }
    if (node.entry.length > 0 || node.exit.length > 0) unsupported(`entry/exit on "${node.id}"`);
    if (node.always !== undefined && node.always.length > 0) {
      unsupported(`eventless transitions on "${node.id}"`);
    }
    if (node.after.length > 0) unsupported(`delayed transitions on "${node.id}"`);
    if (node.invoke.length > 0) unsupported(`invocations on "${node.id}"`);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(root);
  return regions;
}

function atomicDescendants(node: AnyStateNode): AnyStateNode[] {
  if (node.type === "atomic") return [node];
  return Object.values(node.states).flatMap(atomicDescendants);
}

function machineEventTypes(node: AnyStateNode): string[] {
  const own = [...node.transitions.keys()];
  return [...own, ...Object.values(node.states).flatMap(machineEventTypes)];
}

function isWithin(node: AnyStateNode, ancestor: AnyStateNode): boolean {
  for (let at: AnyStateNode | undefined = node; at !== undefined; at = at.parent) {
    if (at === ancestor) return true;
  }
  return false;
}
