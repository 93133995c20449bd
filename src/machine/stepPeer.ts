import { transition } from "xstate";
import type { PeerCommand, PeerCommandType } from "./peerCommands.js";
import { type PeerEventRejection, parsePeerEvent } from "./peerEvents.js";
import { peerMachine } from "./peerMachine.js";
import type { PeerSnapshot, PeerStateValue } from "./peerSnapshot.js";

export type StepResult =
  /** The event moved the machine (state value or context); carry out `commands` in order. */
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
  // XState hands back the very same snapshot when nothing changed; a retry changes nothing
  // but still asks for a command.
  if (next === current && commands.length === 0) return { kind: "ignored", snapshot };
  return {
    kind: "applied",
    snapshot: { value: next.value as PeerStateValue, context: next.context },
    commands,
  };
}
