import { transition } from "xstate";
import type { PeerCommand, PeerCommandType } from "./peerCommands.js";
import type { PeerContext } from "./peerContext.js";
import { type PeerEventRejection, parsePeerEvent } from "./peerEvents.js";
import { peerMachine } from "./peerMachine.js";
import {
  type PeerSnapshot,
  type PeerStateValue,
  peerLeaves,
  readPeerSnapshot,
} from "./peerSnapshot.js";

/** Why stepPeer refused: a malformed event, or a snapshot the machine could not have produced. */
export type StepRejection =
  | PeerEventRejection
  | {
      /** Not a snapshot restorePeerSnapshot would accept (unreadable, mistyped, unreachable). */
      readonly reason: "invalidSnapshot";
      readonly detail: string;
    };

export type StepResult =
  /** The event changed the state or asked for commands; carry out `commands` in order. */
  | {
      readonly kind: "applied";
      readonly snapshot: PeerSnapshot;
      readonly commands: readonly PeerCommand[];
    }
  /** Malformed event or invalid snapshot: nothing changed; `snapshot` is the one given. */
  | {
      readonly kind: "rejected";
      readonly snapshot: PeerSnapshot;
      readonly rejection: StepRejection;
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
  "ensureDummyQueued",
  "claimForShare",
  "skipClaim",
  "reportRepliedToNotice",
]);

/**
 * Feeds one event to a peer's machine: the pure core of the library. Takes the current
 * snapshot and any input, returns the next snapshot and the commands for the shell.
 * Never throws (for any JS values as arguments), never reads a clock, never mutates its
 * arguments. The snapshot comes from the client, so it is checked as restorePeerSnapshot checks
 * a stored one (constant work: a few field reads and one set lookup) and the machine only ever
 * sees the plain copy that check builds.
 */
export function stepPeer(snapshot: PeerSnapshot, input: unknown): StepResult {
  const read = readPeerSnapshot(snapshot);
  if (!read.ok) {
    const detail = `${read.reason}: ${read.detail}`;
    return { kind: "rejected", snapshot, rejection: { reason: "invalidSnapshot", detail } };
  }
  const parsed = parsePeerEvent(input);
  if (!parsed.ok) {
    const { reason, detail } = parsed;
    return { kind: "rejected", snapshot, rejection: { reason, detail } };
  }
  const before = read.value;
  const current = peerMachine.resolveState({ value: before.value, context: before.context });
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
  if (commands.length === 0 && sameState(before, value, next.context)) {
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
