/**
 * What a peer machine asks its shell to do. The machine performs no I/O: it returns these,
 * and the shell carries them out and answers with events (see peerEvents.ts).
 */
export type PeerCommand =
  /** Send one m.no_olm notice to the peer; answer NOTICE_SENT or NOTICE_SEND_FAILED. */
  | { readonly type: "sendNoOlm"; readonly noticeId: number }
  /** The request carrying this notice failed: send the same request again (same txnId). */
  | { readonly type: "retryNoOlm"; readonly noticeId: number }
  /** The episode ended before the notice was acknowledged: drop it if it is not yet sent. */
  | { readonly type: "withdrawNoOlm"; readonly noticeId: number }
  /** Tell the client the peer is reachable again, so it can re-share what was withheld. */
  | { readonly type: "reportPeerReachable"; readonly unreachableSince: number }
  /**
   * Claim a one-time key, create a new Olm session and queue an m.dummy over it; answer
   * DUMMY_QUEUED (then REPLY_SUCCEEDED once delivered) or REPLY_FAILED.
   */
  | { readonly type: "claimKeyAndSendDummy"; readonly replyId: number }
  /** Queue an m.dummy over the existing session (no key claim); answer as above. */
  | { readonly type: "sendDummy"; readonly replyId: number }
  /**
   * After a restart: make sure the reply's m.dummy is still in the outbox; if it is not, encrypt
   * a new one over the existing session under the same reply id, or answer REPLY_FAILED.
   */
  | { readonly type: "ensureDummyQueued"; readonly replyId: number }
  /** R5: claim a one-time key for this device in the share's /keys/claim; answer CLAIM_FAILED or SESSION_ESTABLISHED. */
  | { readonly type: "claimForShare" }
  /** R5: do not claim for this device now; `until` is when its backoff ends (protocol time). */
  | { readonly type: "skipClaim"; readonly until: number }
  /** An m.dummy reached the transport: the client may now request the missing room keys. */
  | { readonly type: "reportRepliedToNotice"; readonly newSession: boolean };

/** The name of a {@link PeerCommand}, e.g. `"sendNoOlm"`: what a shell's `switch` must cover. */
export type PeerCommandType = PeerCommand["type"];

/** Every command type: the machine's actions that are commands (the rest update its context). */
export const PEER_COMMAND_TYPES: readonly PeerCommandType[] = [
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
];
