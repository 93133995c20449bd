import { transition } from "xstate";
import type { PeerCommand, PeerCommandType } from "./peerCommands.js";
import type { PeerContext } from "./peerContext.js";
import { type PeerEventRejection, parsePeerEvent } from "./peerEvents.js";
import { peerMachine } from "./peerMachine.js";
import { type PeerSnapshot, type PeerStateValue, peerLeaves } from "./peerSnapshot.js";

export type StepResult =
  /** The event changed the state or asked for commands; carry out `commands` in order. */
  | {
      readonly kind: "applied";
      readonly snapshot: PeerSnapshot;
      readonly commands: readonly PeerCommand[];
    }
  /** Malformed event: nothing changed. */
  | {
      readonly kind: "rejected";
      readonly snapshot: PeerSnapshot;
      readonly rejection: PeerEventRejection;
    }
  /** Well-formed but meaningless here (a stale ack, a repeated failure): nothing changed. */
  | { readonly kind: "ignored"; readonly snapshot: PeerSnapshot };

const COMMAND_TYPES: ReadonlySet<string> = new Set<PeerCommandType>([
  "sendNoOlm",
  "retryNoOlm",
  "withdrawNoOlm",
  "reportPeerReachable",
  "claimKeyAndSendDummy",
  "sendDummy",
  "reportRepliedToNotice",
]);

/**
 * Feeds one event to a peer's machine: the pure core of the library. Takes the current
 * snapshot and any input, returns the next snapshot and the commands for the shell.
 * Never throws, never reads a clock, never mutates its arguments.
 */
export function stepPeer(snapshot: PeerSnapshot, input: unknown): StepResult {
  const parsed = parsePeerEvent(input);
  if (!parsed.ok) {
    const { reason, detail } = parsed;
    return { kind: "rejected", snapshot, rejection: { reason, detail } };
  }
  const current = peerMachine.resolveState({ value: snapshot.value, context: snapshot.context });
  const [next, actions] = transition(peerMachine, current, parsed.value);
  const commands: PeerCommand[] = [];
  for (const action of actions) {
    if (COMMAND_TYPES.has(action.type)) {
      // The machine's setup() types each command action's params, so this is the command.
      commands.push({ type: action.type, ...(action.params as object) } as PeerCommand);
    }
  }
  const value = next.value as PeerStateValue;
  // A transition may run and still change nothing (a notice that moves no time forward); only
  // a changed state or a command counts as applied. A retry changes nothing but asks for one.
  if (commands.length === 0 && sameState(snapshot, value, next.context)) {
    return { kind: "ignored", snapshot };
  }
  return { kind: "applied", snapshot: { value, context: next.context }, commands };
}

function sameState(snapshot: PeerSnapshot, value: PeerStateValue, context: PeerContext): boolean {
  const before = peerLeaves(snapshot.value);
  const after = peerLeaves(value);
  if (before.olm !== after.olm || before.reply !== after.reply) return false;
  const keys = Object.keys(context) as (keyof PeerContext)[];
  return keys.every((key) => snapshot.context[key] === context[key]);
}
