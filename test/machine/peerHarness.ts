import type { PeerCommand } from "../../src/machine/peerCommands.js";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { initialPeerSnapshot, type PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";

export interface Run {
  readonly snapshot: PeerSnapshot;
  /** Commands of every step, in order. */
  readonly commands: readonly PeerCommand[];
  /** Commands of the last step only. */
  readonly last: readonly PeerCommand[];
}

/** Feeds events one by one from `from` (default: a fresh peer) and gathers the commands. */
export function run(events: readonly PeerEvent[], from: PeerSnapshot = initialPeerSnapshot): Run {
  let snapshot = from;
  const commands: PeerCommand[] = [];
  let last: readonly PeerCommand[] = [];
  for (const event of events) {
    const result = stepPeer(snapshot, event);
    snapshot = result.snapshot;
    last = result.kind === "applied" ? result.commands : [];
    commands.push(...last);
  }
  return { snapshot, commands, last };
}

export const count = (commands: readonly PeerCommand[], type: PeerCommand["type"]): number =>
  commands.filter((c) => c.type === type).length;

const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export { MINUTE };
