// The compiled machine (the table stepPeer and the coordinator execute) against xstate's own
// execution of the same definition: on every reachable shape with every event the exploration
// tries (every guard outcome in every order position), on every leaf pair with every event and
// every combination of the machine's guard outcomes, and on random runs through transition().
import { test as fcTest } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createMachine,
  initialTransition,
  transition,
} from "xstate";
import {
  compilePeerMachine,
  UnsupportedMachineError,
} from "../../src/machine/compilePeerMachine.js";
import {
  exploreReachableShapes,
  type ShapeStepper,
  xstateStepper,
} from "../../src/machine/exploreShapes.js";
import { codeOfLeaves, LEAF_PAIRS, stateValueOf } from "../../src/machine/leafPairs.js";
import { PEER_COMMAND_TYPES, type PeerCommand } from "../../src/machine/peerCommands.js";
import type { PeerContext } from "../../src/machine/peerContext.js";
import { PEER_EVENT_TYPES, type PeerEvent } from "../../src/machine/peerEvents.js";
import { peerMachine } from "../../src/machine/peerMachine.js";
import { PEER_MACHINE_TABLE } from "../../src/machine/peerMachineTable.js";
import { type OlmLeaf, peerShapeKey, type ReplyLeaf } from "../../src/machine/peerShape.js";
import { type PeerStateValue, peerLeaves } from "../../src/machine/peerSnapshot.js";
import { REACHABLE_SHAPES } from "../../src/machine/reachableShapeKeys.js";
import { stepPeer } from "../../src/machine/stepPeer.js";

const COMMANDS: ReadonlySet<string> = new Set(PEER_COMMAND_TYPES);

interface Outcome {
  readonly leaves: string;
  readonly context: PeerContext;
  readonly commands: readonly PeerCommand[];
}

/** What xstate makes of the event: next leaves, context and the command actions it ran. */
function viaXstate(machine: AnyStateMachine, state: AnyMachineSnapshot, event: PeerEvent): Outcome {
  const [next, actions] = transition(machine, state, event);
  const leaves = peerLeaves(next.value as PeerStateValue);
  return {
    leaves: `${leaves.olm}/${leaves.reply}`,
    context: next.context as PeerContext,
    commands: commandsOf(actions.map((action) => ({ type: action.type, params: action.params }))),
  };
}

/** The command actions among those xstate executed, as stepPeer reports them. */
function commandsOf(actions: readonly { type: string; params: unknown }[]): PeerCommand[] {
  return actions
    .filter((action) => COMMANDS.has(action.type))
    .map((action) => ({ type: action.type, ...(action.params as object) }) as PeerCommand);
}

function viaTable(
  table: ReturnType<typeof compilePeerMachine>,
  olm: OlmLeaf,
  reply: ReplyLeaf,
  context: PeerContext,
  event: PeerEvent,
): Outcome {
  const commands: PeerCommand[] = [];
  const code = codeOfLeaves(olm, reply);
  const next = table.step(code, context, event, commands) ?? { leaves: code, context };
  const leaves = peerLeaves(stateValueOf(next.leaves));
  return { leaves: `${leaves.olm}/${leaves.reply}`, context: next.context, commands };
}

/** Same commands in both, and the same state: compared as plain data. */
function expectSame(table: Outcome, xstate: Outcome, where: string): void {
  if (
    table.leaves !== xstate.leaves ||
    JSON.stringify(table.context) !== JSON.stringify(xstate.context) ||
    JSON.stringify(table.commands) !== JSON.stringify(xstate.commands)
  ) {
    expect({ where, ...table }).toEqual({ where, ...xstate });
  }
}

describe("the compiled peer machine equals xstate's execution of the definition", () => {
  it("on every step of the reachable-shape search: same next state, same commands; same shapes found", () => {
    // The search of exploreShapes.ts, stepping with xstate; at every step the table must agree.
    const recorded: { type: string; params: unknown }[] = [];
    const xstate = xstateStepper((action) => recorded.push(action));
    let steps = 0;
    let acted = 0;
    const compared: ShapeStepper = (from, event) => {
      recorded.length = 0;
      const next = xstate(from, event);
      const expected: Outcome = {
        leaves: `${next.olm}/${next.reply}`,
        context: next.context,
        commands: commandsOf(recorded),
      };
      const table = viaTable(PEER_MACHINE_TABLE, from.olm, from.reply, from.context, event);
      expectSame(
        table,
        expected,
        `${from.olm}/${from.reply} ${JSON.stringify(from.context)} + ${JSON.stringify(event)}`,
      );
      steps += 1;
      if (expected.commands.length > 0 || expected.leaves !== `${from.olm}/${from.reply}`)
        acted += 1;
      return next;
    };
    const explored = exploreReachableShapes(compared);
    expect(explored.shapes).toEqual([...REACHABLE_SHAPES]);
    // A few hundred thousand steps, a good share of which change the state or command something.
    expect(steps).toBe(explored.transitions);
    expect(steps).toBeGreaterThan(400_000);
    expect(acted).toBeGreaterThan(100_000);
  }, 180_000);

  it("on every leaf pair × every event × every combination of guard outcomes, through transition()", () => {
    const guardNames = ["isCurrentNotice", "isCurrentReply", "replyWindowOpen", "claimBackoffOver"];
    const contexts: PeerContext[] = [
      {
        noticeId: 3,
        unreachableSince: 1_000,
        lastNoticeReceivedAt: 2_000,
        replyId: 5,
        lastReplyAt: 1_500,
        claimFailures: 2,
        claimFailedAt: 1_800,
      },
      {
        noticeId: 0,
        unreachableSince: null,
        lastNoticeReceivedAt: null,
        replyId: 0,
        lastReplyAt: null,
        claimFailures: 0,
        claimFailedAt: null,
      },
    ];
    let cases = 0;
    for (let vector = 0; vector < 2 ** guardNames.length; vector += 1) {
      const guards = Object.fromEntries(
        guardNames.map((name, bit) => [name, () => (vector & (1 << bit)) !== 0]),
      );
      const machine = peerMachine.provide({ guards });
      const table = compilePeerMachine(machine);
      for (let code = 0; code < LEAF_PAIRS.length; code += 1) {
        const value = stateValueOf(code);
        const leaves = peerLeaves(value);
        for (const context of contexts) {
          const state = machine.resolveState({ value, context });
          for (const type of PEER_EVENT_TYPES) {
            const event = sampleEvent(type, 10_000);
            expectSame(
              viaTable(table, leaves.olm, leaves.reply, context, event),
              viaXstate(machine, state, event),
              `guards ${vector.toString(2).padStart(4, "0")} ${leaves.olm}/${leaves.reply} ${type}`,
            );
            cases += 1;
          }
        }
      }
    }
    expect(cases).toBe(16 * 24 * 2 * PEER_EVENT_TYPES.length);
  }, 60_000);

  fcTest.prop([peerEventRun()], { numRuns: 200 })(
    "on random runs from the initial state: stepPeer and transition() agree at every step",
    (events) => {
      let [state] = initialTransition(peerMachine);
      let snapshot = { value: state.value as PeerStateValue, context: state.context };
      for (const event of events) {
        const xstate = viaXstate(peerMachine, state, event);
        const step = stepPeer(snapshot, event);
        const leaves = peerLeaves(step.snapshot.value);
        const commands = step.kind === "applied" ? step.commands : [];
        expectSame(
          { leaves: `${leaves.olm}/${leaves.reply}`, context: step.snapshot.context, commands },
          xstate,
          JSON.stringify(event),
        );
        [state] = transition(peerMachine, state, event);
        snapshot = step.snapshot;
      }
      // The shapes stay among the reachable ones (the run is a real run).
      const { olm, reply } = peerLeaves(snapshot.value);
      expect(REACHABLE_SHAPES).toContain(peerShapeKey(olm, reply, snapshot.context));
    },
  );

  it("refuses, at compile time, a machine using what it does not execute", () => {
    const flat = createMachine({ initial: "a", states: { a: { on: { GO: "b" } }, b: {} } });
    expect(() => compilePeerMachine(flat)).toThrow(UnsupportedMachineError);
    const unimplemented = peerMachine.provide({
      guards: { replyWindowOpen: undefined as unknown as () => boolean },
    });
    expect(() => compilePeerMachine(unimplemented)).toThrow(UnsupportedMachineError);
  });
});

/** Runs of events at readings that mostly advance (by up to two hours) and sometimes go back. */
function peerEventRun(): fc.Arbitrary<PeerEvent[]> {
  const step = fc.record({
    type: fc.constantFrom(...PEER_EVENT_TYPES),
    dt: fc.oneof(
      fc.integer({ min: 0, max: 120_000 }),
      fc.integer({ min: -60_000, max: 7_200_000 }),
    ),
    id: fc.integer({ min: 0, max: 3 }),
    origin: fc.constantFrom("outbound", "inbound", "existing" as const),
  });
  return fc.array(step, { maxLength: 60 }).map((steps) => {
    let at = 1_000_000;
    return steps.map(({ type, dt, id, origin }): PeerEvent => {
      at += dt;
      const event = sampleEvent(type, at);
      if ("noticeId" in event) return { ...event, noticeId: id };
      if ("replyId" in event) return { ...event, replyId: id };
      if (event.type === "SESSION_ESTABLISHED") return { ...event, origin };
      return event;
    });
  });
}

function sampleEvent(type: PeerEvent["type"], at: number): PeerEvent {
  switch (type) {
    case "SESSION_ESTABLISHED":
      return { type, at, origin: "outbound" };
    case "NOTICE_SENT":
    case "NOTICE_SEND_FAILED":
      return { type, at, noticeId: 3 };
    case "DUMMY_QUEUED":
    case "REPLY_SUCCEEDED":
    case "REPLY_FAILED":
      return { type, at, replyId: 5 };
    default:
      return { type, at };
  }
}
