import type { DedupRun, DedupStep } from "./dedupRunArbitraries.js";

/** What the kit saw of one peer during one step. */
export interface PeerObservation {
  readonly peer: number;
  /** Our Olm account held a session with the peer before / after the step. */
  readonly sessionBefore: boolean;
  readonly sessionAfter: boolean;
  /** The peer's unclaimed one-time keys on the homeserver before the step. */
  readonly keysBefore: number;
  /** m.no_olm notices from us that reached the peer's inbox in this step. */
  readonly noticesDelivered: number;
  /** Olm-encrypted m.dummy events from us that the peer decrypted in this step. */
  readonly dummiesDelivered: number;
  /** Messages from us the peer could not decrypt (an empty or broken ciphertext). */
  readonly undecryptable: number;
  /** The peer's keys the homeserver handed to us in this step (each one a new session). */
  readonly keysClaimed: number;
}

/** A step of the run, or the kit's final `settle` (send failures used up, one last retry). */
export type ObservedStep = DedupStep | { readonly k: "settle" };

/** What the kit saw during one step, per peer. */
export interface StepObservation {
  /** The step's index in the run; the final settle step has index `steps.length`. */
  readonly index: number;
  /** The step played. */
  readonly step: ObservedStep;
  /** The kit's clock during the step. */
  readonly at: number;
  /** One per peer, in peer order. */
  readonly peers: readonly PeerObservation[];
}

/**
 * What {@link runDedupScenario} saw on the network and in the Olm account: give it to
 * {@link dedupViolations} to judge, and to {@link formatDedupTrace} for a failure message.
 */
export interface DedupTrace {
  /** The run that was played. */
  readonly run: DedupRun;
  /** One per step, then a final "settle" (faults used up, a last retry). */
  readonly steps: readonly StepObservation[];
  /** Spec violations the homeserver double saw in our requests. */
  readonly specViolations: readonly string[];
}

/** The trace one line a step, for a failure message. */
export function formatDedupTrace(trace: DedupTrace): string {
  return trace.steps
    .map((s) => {
      const peers = s.peers
        .map(
          (p) =>
            `p${p.peer}[${p.sessionBefore ? "S" : "-"}→${p.sessionAfter ? "S" : "-"} keys=${p.keysBefore}` +
            ` noOlm=${p.noticesDelivered} dummy=${p.dummiesDelivered} claimed=${p.keysClaimed}]`,
        )
        .join(" ");
      return `#${s.index} t=${s.at} ${JSON.stringify(s.step)} ${peers}`;
    })
    .join("\n");
}
