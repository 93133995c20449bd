/**
 * What a peer machine remembers besides its state value: a handful of numbers, so a device's
 * whole state stays a small JSON value (and, later, a few packed slots per device).
 * Times are milliseconds as given by the shell's clock; `null` means "never".
 */
export interface PeerContext {
  /** Id of the current (or last) m.no_olm notice; bumped once per failure episode. */
  readonly noticeId: number;
  /** First failure of the current episode; null outside an episode. */
  readonly unreachableSince: number | null;
  /** Latest m.no_olm received from the peer: explains its earlier undecryptable messages. */
  readonly lastNoticeReceivedAt: number | null;
  /** Id of the current (or last) reply to a received notice. */
  readonly replyId: number;
  /** When the last reply (an m.dummy, over a new or existing session) went out. */
  readonly lastReplyAt: number | null;
  /** Consecutive failed key claims for replies; 0 when not backing off. */
  readonly claimFailures: number;
  /** When the last failed claim happened; null when not backing off. */
  readonly claimFailedAt: number | null;
}

export const initialPeerContext: PeerContext = {
  noticeId: 0,
  unreachableSince: null,
  lastNoticeReceivedAt: null,
  replyId: 0,
  lastReplyAt: null,
  claimFailures: 0,
  claimFailedAt: null,
};

/** Whether two contexts hold the same values (the machine's contexts are plain data). */
export function samePeerContext(a: PeerContext, b: PeerContext): boolean {
  return (
    a === b ||
    (a.noticeId === b.noticeId &&
      a.unreachableSince === b.unreachableSince &&
      a.lastNoticeReceivedAt === b.lastNoticeReceivedAt &&
      a.replyId === b.replyId &&
      a.lastReplyAt === b.lastReplyAt &&
      a.claimFailures === b.claimFailures &&
      a.claimFailedAt === b.claimFailedAt)
  );
}
