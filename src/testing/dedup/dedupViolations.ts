import { ONE_HOUR_MS } from "../model/referenceModel.js";
import type { DedupTrace } from "./dedupTrace.js";

/** The rules {@link dedupViolations} checks; docs/testing.md explains each. */
export type DedupRule =
  /** At most one m.no_olm per device between two sessions with it (none while failures go on). */
  | "oneNoticePerEpisode"
  /** No m.no_olm to a device we hold a session with. */
  | "noNoticeWhileReachable"
  /** A failure after a session (or at the start) is a new episode: one m.no_olm reaches it. */
  | "noticeForNewEpisode"
  /** In answer to its notices, at most one new session with a device per hour. */
  | "oneNewSessionPerHour"
  /** Everything we send a peer decrypts (no empty or broken ciphertext). */
  | "decryptable"
  /** The homeserver double saw a request that breaks the spec. */
  | "spec";

/** One broken rule: where in the trace, for which peer, and what was seen. */
export interface DedupViolation {
  /** The rule broken. */
  readonly rule: DedupRule;
  /** The step's index in the trace; -1 for `spec` (not tied to a step). */
  readonly index: number;
  /** The peer's index; absent for `spec`. */
  readonly peer?: number;
  /** What was seen, for a failure message. */
  readonly detail: string;
}

interface PeerTally {
  /** m.no_olm delivered since the last session came up. */
  notices: number;
  /** A share needed a new session and could not get one (no session, no keys), this segment. */
  failedShare: boolean;
  /** The peer sent us a notice this segment (a reply's failed claim backs shares off). */
  peerNoticed: boolean;
  lastReplyClaimAt: number | undefined;
}

/**
 * The dedup properties, judged on a trace (pure). An episode is cut at each step after which
 * our Olm account holds a session with the peer and before which it did not.
 */
export function dedupViolations(trace: DedupTrace): DedupViolation[] {
  const out: DedupViolation[] = trace.specViolations.map((detail) => ({
    rule: "spec",
    index: -1,
    detail,
  }));
  const tallies: PeerTally[] = Array.from({ length: trace.run.peers }, () => ({
    notices: 0,
    failedShare: false,
    peerNoticed: false,
    lastReplyClaimAt: undefined,
  }));
  for (const { index, step, at, peers } of trace.steps) {
    for (const seen of peers) {
      const tally = tallies[seen.peer];
      if (tally === undefined) continue;
      const { peer } = seen;
      if (seen.noticesDelivered > 0 && seen.sessionBefore && seen.sessionAfter) {
        out.push({
          rule: "noNoticeWhileReachable",
          index,
          peer,
          detail: "m.no_olm with a session",
        });
      }
      tally.notices += seen.noticesDelivered;
      if (tally.notices > 1 && seen.noticesDelivered > 0) {
        const detail = `${tally.notices} m.no_olm in one failure episode`;
        out.push({ rule: "oneNoticePerEpisode", index, peer, detail });
      }
      if (seen.undecryptable > 0) {
        const detail = `${seen.undecryptable} message(s) the peer could not decrypt`;
        out.push({ rule: "decryptable", index, peer, detail });
      }
      if (step.k === "sync" && seen.keysClaimed > 0) {
        const last = tally.lastReplyClaimAt;
        if (seen.keysClaimed > 1 || (last !== undefined && at - last < ONE_HOUR_MS)) {
          const detail = `a new session ${last === undefined ? "" : `${at - last} ms `}after the last`;
          out.push({ rule: "oneNewSessionPerHour", index, peer, detail });
        }
        tally.lastReplyClaimAt = at;
      }
      if (step.k === "peerNotice" && step.peer === peer) tally.peerNoticed = true;
      const shared = step.k === "share" && step.peers.includes(peer);
      if (shared && !seen.sessionBefore && seen.keysBefore === 0 && !tally.peerNoticed) {
        tally.failedShare = true;
      }
      if (!seen.sessionBefore && seen.sessionAfter) {
        tally.notices = 0;
        tally.failedShare = false;
        tally.peerNoticed = false;
      }
      if (step.k === "settle" && tally.failedShare && !seen.sessionAfter && tally.notices === 0) {
        const detail = "a share failed after the last session, and no m.no_olm reached the device";
        out.push({ rule: "noticeForNewEpisode", index, peer, detail });
      }
    }
  }
  return out;
}
