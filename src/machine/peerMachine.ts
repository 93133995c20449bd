import { and, assign, not, setup, stateIn } from "xstate";
import { initialPeerContext, type PeerContext } from "./peerContext.js";
import type { PeerEvent } from "./peerEvents.js";
import {
  claimBackoffMs,
  hasWaited,
  MAX_COUNTED_CLAIM_FAILURES,
  nextPeerId,
  REPLY_INTERVAL_MS,
  reanchor,
} from "./timing.js";

/*
 * One machine per peer device (user id + device id + curve25519 key). Two parallel regions:
 *
 * - `olm`: is an Olm session with the peer established, and if we failed to establish one,
 *   where the single m.no_olm notice of this failure episode stands (pending → delivered).
 * - `reply`: our answer to m.no_olm notices the peer sent us (idle → replying → idle, or
 *   backing off after a failed key claim).
 *
 * The machine is pure: no timers, no clock, no I/O. Commands for the shell are the named
 * actions below with no implementation; `stepPeer` reads them off the transition result.
 */

const idOf = (event: PeerEvent): number | undefined =>
  "noticeId" in event ? event.noticeId : "replyId" in event ? event.replyId : undefined;

// Command actions: intentionally empty, their type and params are the command.
const command =
  <P>() =>
  (_: unknown, _params: P): void => {};

type Args = { readonly context: PeerContext; readonly event: PeerEvent };
const currentNotice = ({ context }: Args) => ({ noticeId: context.noticeId });
const currentReply = ({ context }: Args) => ({ replyId: context.replyId });
// Only asked while a backoff runs, so claimFailedAt is set.
const claimBackoffEnd = ({ context }: Args) => ({
  until: (context.claimFailedAt ?? 0) + claimBackoffMs(context.claimFailures),
});
const episodeStart = ({ context, event }: Args) => ({
  unreachableSince: context.unreachableSince ?? event.at,
});

// N1: the first failure of an episode sends exactly one notice.
const failureStartsEpisode = {
  target: "#peer.olm.unreachable",
  actions: ["startEpisode", { type: "sendNoOlm", params: currentNotice }],
} as const;

// R5: our share-time claim found no usable key: a failure (N1/N2) and a step of the backoff.
const claimFailureStartsEpisode = {
  target: "#peer.olm.unreachable",
  actions: ["recordClaimFailure", "startEpisode", { type: "sendNoOlm", params: currentNotice }],
} as const;

// N4: a session ends the episode; a notice not yet acknowledged is no longer needed.
const sessionEndsPendingEpisode = {
  target: "#peer.olm.established",
  actions: [
    { type: "withdrawNoOlm", params: currentNotice },
    { type: "reportPeerReachable", params: episodeStart },
    "endEpisode",
  ],
} as const;
const sessionEndsDeliveredEpisode = {
  target: "#peer.olm.established",
  actions: [{ type: "reportPeerReachable", params: episodeStart }, "endEpisode"],
} as const;

// R1 (after the R2 hour check): a reply that needs a new session.
const replyWithNewSession = {
  target: "#peer.reply.replying.newSession",
  actions: ["recordNotice", "startReply", { type: "claimKeyAndSendDummy", params: currentReply }],
} as const;

/**
 * The per-peer state machine's definition (XState v5, made with `setup()`): the one source of
 * truth for the protocol rules, read by `stepPeer` (which runs a table compiled from it at load
 * time), by the generated state diagram and by the tests. Use it to inspect or render the
 * machine; to run it, call `stepPeer`, which checks its inputs, rather than XState's own
 * `transition`, which does not. Its inferred type is XState's and not part of this API.
 */
export const peerMachine = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
  },
  actions: {
    sendNoOlm: command<{ noticeId: number }>(),
    retryNoOlm: command<{ noticeId: number }>(),
    withdrawNoOlm: command<{ noticeId: number }>(),
    reportPeerReachable: command<{ unreachableSince: number }>(),
    claimKeyAndSendDummy: command<{ replyId: number }>(),
    sendDummy: command<{ replyId: number }>(),
    ensureDummyQueued: command<{ replyId: number }>(),
    claimForShare: command<Record<string, never>>(),
    skipClaim: command<{ until: number }>(),
    reportRepliedToNotice: command<{ newSession: boolean }>(),

    startEpisode: assign(({ context, event }) => ({
      noticeId: nextPeerId(context.noticeId),
      unreachableSince: event.at,
    })),
    endEpisode: assign({ unreachableSince: null }),
    // The latest reading, not the largest: one reading from a clock that ran ahead must not
    // explain the device's later messages for as long as the clock was wrong.
    recordNotice: assign(({ context, event }) => ({
      lastNoticeReceivedAt: event.at,
      lastReplyAt: reanchor(context.lastReplyAt, event.at),
      claimFailedAt: reanchor(context.claimFailedAt, event.at),
    })),
    startReply: assign(({ context }) => ({ replyId: nextPeerId(context.replyId) })),
    recordReply: assign(({ event }) => ({
      lastReplyAt: event.at,
      claimFailures: 0,
      claimFailedAt: null,
    })),
    recordClaimFailure: assign(({ context, event }) => ({
      claimFailures: Math.min(context.claimFailures + 1, MAX_COUNTED_CLAIM_FAILURES),
      claimFailedAt: event.at,
    })),
    clearBackoff: assign({ claimFailures: 0, claimFailedAt: null }),
    // A reading before the anchor means the clock went back: wait from that reading instead.
    reanchorClaimBackoff: assign(({ context, event }) => ({
      claimFailedAt: reanchor(context.claimFailedAt, event.at),
    })),
  },
  guards: {
    isCurrentNotice: ({ context, event }) => idOf(event) === context.noticeId,
    isCurrentReply: ({ context, event }) => idOf(event) === context.replyId,
    /** R2: a reply (and so a new session for one) at most once an hour. */
    replyWindowOpen: ({ context, event }) =>
      context.lastReplyAt === null || hasWaited(context.lastReplyAt, event.at, REPLY_INTERVAL_MS),
    /** R3: after failed claims, wait 15 s × 2ⁿ (capped) before claiming again. */
    claimBackoffOver: ({ context, event }) =>
      context.claimFailedAt === null ||
      hasWaited(context.claimFailedAt, event.at, claimBackoffMs(context.claimFailures)),
    sessionEstablished: stateIn({ olm: "established" }),
    newSessionReplyDone: and(["isCurrentReply", stateIn({ reply: { replying: "newSession" } })]),
  },
}).createMachine({
  id: "peer",
  type: "parallel",
  context: initialPeerContext,
  on: {
    // R5: a share wants to claim a key for this device: now, or not before its backoff ends.
    CLAIM_REQUESTED: [
      { guard: "claimBackoffOver", actions: { type: "claimForShare", params: {} } },
      {
        actions: [
          "reanchorClaimBackoff",
          {
            type: "skipClaim",
            /** The `skipClaim` command: `until`, when the backoff ends (ms, the events' clock). */
            params: claimBackoffEnd,
          },
        ],
      },
    ],
  },
  states: {
    olm: {
      initial: "noSession",
      states: {
        noSession: {
          on: {
            ESTABLISH_FAILED: failureStartsEpisode,
            CLAIM_FAILED: claimFailureStartsEpisode,
            SESSION_ESTABLISHED: { target: "established" },
            DUMMY_QUEUED: { guard: "newSessionReplyDone", target: "established" },
          },
        },
        established: {
          on: {
            ESTABLISH_FAILED: failureStartsEpisode,
            CLAIM_FAILED: claimFailureStartsEpisode,
            // Not a failure: nothing is sent; the next reply claims a new session (R1).
            SESSION_LOST: { target: "noSession" },
          },
        },
        // N2: inside an episode ESTABLISH_FAILED has no transition at all; a failed claim only
        // lengthens the backoff (R5).
        unreachable: {
          initial: "noticePending",
          on: {
            CLAIM_FAILED: { actions: "recordClaimFailure" },
          },
          states: {
            noticePending: {
              on: {
                // After a restart the notice must still be on its way (queued or re-sent).
                RESUMED: { actions: { type: "retryNoOlm", params: currentNotice } },
                // N3: delivered only once the transport acknowledges it.
                NOTICE_SENT: { guard: "isCurrentNotice", target: "noticeDelivered" },
                NOTICE_SEND_FAILED: {
                  guard: "isCurrentNotice",
                  actions: { type: "retryNoOlm", params: currentNotice },
                },
                SESSION_ESTABLISHED: sessionEndsPendingEpisode,
                DUMMY_QUEUED: { guard: "newSessionReplyDone", ...sessionEndsPendingEpisode },
              },
            },
            noticeDelivered: {
              on: {
                // N4: after a session the next failure starts a new episode and notifies again.
                SESSION_ESTABLISHED: sessionEndsDeliveredEpisode,
                DUMMY_QUEUED: { guard: "newSessionReplyDone", ...sessionEndsDeliveredEpisode },
              },
            },
          },
        },
      },
    },
    reply: {
      initial: "idle",
      states: {
        idle: {
          on: {
            NOTICE_RECEIVED: [
              // R2: inside the hour after a reply, a notice is only recorded (R4).
              { guard: not("replyWindowOpen"), actions: "recordNotice" },
              // R1: a session exists, so answer over it without claiming a key.
              {
                guard: "sessionEstablished",
                target: "replying.existingSession",
                actions: [
                  "recordNotice",
                  "startReply",
                  { type: "sendDummy", params: currentReply },
                ],
              },
              // R5: a claim for this device failed a moment ago: wait, as after a failed reply.
              {
                guard: not("claimBackoffOver"),
                target: "backingOff",
                actions: "recordNotice",
              },
              // R1: no session, so claim a key, create one and answer over it.
              replyWithNewSession,
            ],
            // R5: a session, or new keys for the device, end a share-time backoff.
            SESSION_ESTABLISHED: { actions: "clearBackoff" },
            DEVICE_CHANGED: { actions: "clearBackoff" },
          },
        },
        replying: {
          // Only ever entered through its children; `initial` is required by XState.
          initial: "newSession",
          on: {
            // Notices arriving while a reply is in flight are answered by that reply.
            NOTICE_RECEIVED: { actions: "recordNotice" },
            SESSION_ESTABLISHED: { actions: "clearBackoff" },
            DEVICE_CHANGED: { actions: "clearBackoff" },
          },
          states: {
            newSession: {
              on: {
                // After a restart nothing is in flight: start the reply again (a fresh id, so a
                // late outcome of the old attempt is stale). The hour starts only on delivery.
                RESUMED: {
                  actions: ["startReply", { type: "claimKeyAndSendDummy", params: currentReply }],
                },
                // The session exists and its m.dummy is in the outbox (one commit with both); a
                // session clears the claim backoff (R3).
                DUMMY_QUEUED: {
                  guard: "isCurrentReply",
                  target: "newSessionDummyQueued",
                  actions: "clearBackoff",
                },
                REPLY_FAILED: [
                  // A session appeared meanwhile: nothing to back off from.
                  {
                    guard: and(["isCurrentReply", "sessionEstablished"]),
                    target: "#peer.reply.idle",
                  },
                  // R3: no m.dummy, no m.no_olm back; back off before claiming again.
                  {
                    guard: "isCurrentReply",
                    target: "#peer.reply.backingOff",
                    actions: "recordClaimFailure",
                  },
                ],
              },
            },
            existingSession: {
              on: {
                RESUMED: { actions: ["startReply", { type: "sendDummy", params: currentReply }] },
                DUMMY_QUEUED: { guard: "isCurrentReply", target: "existingSessionDummyQueued" },
                REPLY_FAILED: { guard: "isCurrentReply", target: "#peer.reply.idle" },
              },
            },
            // R2: the m.dummy waits in the outbox; the hour starts when the homeserver accepts it.
            newSessionDummyQueued: {
              on: {
                // After a restart the m.dummy must still be on its way (stored, or made again).
                RESUMED: { actions: { type: "ensureDummyQueued", params: currentReply } },
                REPLY_SUCCEEDED: {
                  guard: "isCurrentReply",
                  target: "#peer.reply.idle",
                  actions: [
                    "recordReply",
                    { type: "reportRepliedToNotice", params: { newSession: true } },
                  ],
                },
                // The m.dummy was lost and cannot be made again. A session was made all the same:
                // R2 counts the hour from now, so no second one follows within it.
                REPLY_FAILED: {
                  guard: "isCurrentReply",
                  target: "#peer.reply.idle",
                  actions: "recordReply",
                },
              },
            },
            existingSessionDummyQueued: {
              on: {
                RESUMED: { actions: { type: "ensureDummyQueued", params: currentReply } },
                REPLY_SUCCEEDED: {
                  guard: "isCurrentReply",
                  target: "#peer.reply.idle",
                  actions: [
                    "recordReply",
                    { type: "reportRepliedToNotice", params: { newSession: false } },
                  ],
                },
                REPLY_FAILED: { guard: "isCurrentReply", target: "#peer.reply.idle" },
              },
            },
          },
        },
        backingOff: {
          on: {
            NOTICE_RECEIVED: [
              { guard: not("replyWindowOpen"), actions: "recordNotice" },
              { guard: "claimBackoffOver", ...replyWithNewSession },
              { actions: "recordNotice" },
            ],
            // R3: a successful session clears the backoff; so do new keys for the device (R5).
            SESSION_ESTABLISHED: { target: "idle", actions: "clearBackoff" },
            DEVICE_CHANGED: { target: "idle", actions: "clearBackoff" },
          },
        },
      },
    },
  },
});

/** The type of {@link peerMachine}, for code that takes the machine as a parameter. */
export type PeerMachine = typeof peerMachine;
