import { codeOfLeaves, stateValueOf } from "./leafPairs.js";
import type { PeerCommand } from "./peerCommands.js";
import { samePeerContext } from "./peerContext.js";
import { type PeerEventRejection, parsePeerEvent } from "./peerEvents.js";
import { PEER_MACHINE_TABLE } from "./peerMachineTable.js";
import { type PeerSnapshot, peerLeaves, readPeerSnapshot } from "./peerSnapshot.js";

/** Why stepPeer refused: a malformed event, or a snapshot the machine could not have produced. */
export type StepRejection =
  | PeerEventRejection
  | {
      /** Not a snapshot restorePeerSnapshot would accept (unreadable, mistyped, unreachable). */
      readonly reason: "invalidSnapshot";
      readonly detail: string;
    };

/**
 * What `stepPeer` did with one event, discriminated by `kind`. `applied` carries the next
 * snapshot, to keep in place of the old one; `rejected` and `ignored` return the very object
 * passed in, so an identity check tells that nothing changed.
 */
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
  const { olm, reply } = peerLeaves(before.value);
  const leaves = codeOfLeaves(olm, reply);
  const commands: PeerCommand[] = [];
  const next = PEER_MACHINE_TABLE.step(leaves, before.context, parsed.value, commands);
  // A transition may run and still change nothing (a notice that moves no time forward); only
  // a changed state or a command counts as applied. A retry changes nothing but asks for one.
  if (
    next === undefined ||
    (commands.length === 0 &&
      next.leaves === leaves &&
      samePeerContext(before.context, next.context))
  ) {
    return { kind: "ignored", snapshot };
  }
  return {
    kind: "applied",
    snapshot: { value: stateValueOf(next.leaves), context: next.context },
    commands,
  };
}
