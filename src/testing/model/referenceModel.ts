/**
 * A reference model of the per-peer-device protocol rules, written from the rules alone (not
 * from the XState machine), so that the model-based tests compare two independent
 * implementations. It is deliberately plain: one mutable object, one method per event, no
 * shared code with `src/machine/` beyond the command type.
 */
import type { PeerCommand } from "../../machine/peerCommands.js";

/** The model's Olm region, named as the machine's `peerLeaves` names its leaves. */
export type ModelOlm =
  /** No session with the device, and no failure episode. */
  | "noSession"
  /** A usable session with the device. */
  | "established"
  /** In a failure episode; its m.no_olm is not acknowledged yet. */
  | "noticePending"
  /** In a failure episode; its m.no_olm was acknowledged. */
  | "noticeDelivered";
/** The model's reply region: answering the device's m.no_olm with an m.dummy. */
export type ModelReply =
  /** No reply under way. */
  | "idle"
  /** Claiming a key to make a new session for the reply. */
  | "newSession"
  /** Sending the reply over the session we hold. */
  | "existingSession"
  /** A new-session reply's m.dummy is in the outbox (the session exists). */
  | "newSessionDummyQueued"
  /** An existing-session reply's m.dummy is in the outbox. */
  | "existingSessionDummyQueued"
  /** A notice waits for the claim backoff to end; no claim is made meanwhile. */
  | "backingOff";

/**
 * The model's context: the same fields, meanings and values as the machine's snapshot
 * context. Ids are integers 0…2³²−1 (0: none yet, wrapping to 1); times are clock readings
 * in ms, null when unset.
 */
export interface ModelContext {
  /** Id of the current (or last) m.no_olm notice; bumped once per failure episode. */
  noticeId: number;
  /** First failure of the current episode; null outside an episode. */
  unreachableSince: number | null;
  /** Latest m.no_olm received from the device. */
  lastNoticeReceivedAt: number | null;
  /** Id of the current (or last) reply to a received notice. */
  replyId: number;
  /** Start of the reply hour: the last delivered m.dummy, or a lost new-session one. */
  lastReplyAt: number | null;
  /** Consecutive failed key claims, 0…8; 0 when not backing off. */
  claimFailures: number;
  /** When the last failed claim happened; null when not backing off. */
  claimFailedAt: number | null;
}

/** The model's whole state: the machine's `peerLeaves` shape plus its context fields. */
export interface ModelState {
  readonly leaves: { readonly olm: ModelOlm; readonly reply: ModelReply };
  readonly context: Readonly<ModelContext>;
}

/** The model's answer to one input, as `stepPeer` must answer it. */
export type ModelResult =
  /** The input changed the state or asked for commands; these, in order. */
  | { readonly kind: "applied"; readonly commands: readonly PeerCommand[] }
  /** `rejected`: a malformed input; `ignored`: a valid one that changes nothing. No commands. */
  | { readonly kind: "rejected" | "ignored"; readonly commands: readonly [] };

/** The spec's one hour between new sessions made in answer to a device's notices, in ms. */
export const ONE_HOUR_MS = 3_600_000;
const BACKOFF_BASE_MS = 15_000;
const BACKOFF_CAP_MS = 900_000;
const MAX_CLAIM_FAILURES = 8;

/** The claim backoff after `failures` consecutive failed claims (failures ≥ 1). */
export function modelBackoffMs(failures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_CAP_MS);
}

/** A wait of `waitMs` from `anchor` is over at reading `at`. */
export function modelWaitIsOver(anchor: number, at: number, waitMs: number): boolean {
  return at >= anchor && at - anchor >= waitMs;
}

/** A fresh peer: no session, no reply, ids 0, times null, no claim failures. */
export const MODEL_INITIAL_STATE: ModelState = {
  leaves: { olm: "noSession", reply: "idle" },
  context: {
    noticeId: 0,
    unreachableSince: null,
    lastNoticeReceivedAt: null,
    replyId: 0,
    lastReplyAt: null,
    claimFailures: 0,
    claimFailedAt: null,
  },
};

type ValidEvent =
  | { type: "ESTABLISH_FAILED"; at: number }
  | { type: "CLAIM_REQUESTED"; at: number }
  | { type: "CLAIM_FAILED"; at: number }
  | { type: "DEVICE_CHANGED"; at: number }
  | { type: "SESSION_ESTABLISHED"; at: number }
  | { type: "SESSION_LOST"; at: number }
  | { type: "NOTICE_SENT"; at: number; noticeId: number }
  | { type: "NOTICE_SEND_FAILED"; at: number; noticeId: number }
  | { type: "NOTICE_RECEIVED"; at: number }
  | { type: "DUMMY_QUEUED"; at: number; replyId: number }
  | { type: "REPLY_SUCCEEDED"; at: number; replyId: number }
  | { type: "REPLY_FAILED"; at: number; replyId: number }
  | { type: "RESUMED"; at: number };

/** Ids live in 32 bits and wrap to 1, so every id has a successor. */
const MAX_ID = 2 ** 32 - 1;
const nextId = (id: number): number => (id === MAX_ID ? 1 : id + 1);

/** Checks an event by the rules; undefined means "malformed, reject". */
function validate(input: unknown): ValidEvent | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined;
  const type: unknown = Reflect.get(input, "type");
  const at: unknown = Reflect.get(input, "at");
  if (typeof at !== "number" || !Number.isFinite(at)) return undefined;
  const validId = (id: unknown): id is number =>
    Number.isInteger(id) && Number(id) >= 0 && Number(id) <= MAX_ID;
  switch (type) {
    case "ESTABLISH_FAILED":
    case "CLAIM_REQUESTED":
    case "CLAIM_FAILED":
    case "DEVICE_CHANGED":
    case "SESSION_LOST":
    case "NOTICE_RECEIVED":
    case "RESUMED":
      return { type, at };
    case "SESSION_ESTABLISHED": {
      const origin: unknown = Reflect.get(input, "origin");
      const ok = origin === "outbound" || origin === "inbound" || origin === "existing";
      return ok ? { type, at } : undefined;
    }
    case "NOTICE_SENT":
    case "NOTICE_SEND_FAILED": {
      const noticeId: unknown = Reflect.get(input, "noticeId");
      return validId(noticeId) ? { type, at, noticeId } : undefined;
    }
    case "DUMMY_QUEUED":
    case "REPLY_SUCCEEDED":
    case "REPLY_FAILED": {
      const replyId: unknown = Reflect.get(input, "replyId");
      return validId(replyId) ? { type, at, replyId } : undefined;
    }
    default:
      return undefined;
  }
}

const isQueued = (reply: ModelReply): boolean =>
  reply === "newSessionDummyQueued" || reply === "existingSessionDummyQueued";

/**
 * The reference model of one peer device: feed it the same inputs as the implementation and
 * compare answers ({@link lockstepWithModel} does this for a {@link Run}).
 */
export class PeerModel {
  private olm: ModelOlm;
  private reply: ModelReply;
  private readonly ctx: ModelContext;

  /** Starts from `from` (copied), a fresh peer by default. */
  constructor(from: ModelState = MODEL_INITIAL_STATE) {
    this.olm = from.leaves.olm;
    this.reply = from.leaves.reply;
    this.ctx = { ...from.context };
  }

  /** A copy of the current state. */
  state(): ModelState {
    return { leaves: { olm: this.olm, reply: this.reply }, context: { ...this.ctx } };
  }

  private inEpisode(): boolean {
    return this.olm === "noticePending" || this.olm === "noticeDelivered";
  }

  /**
   * Applies one input (any value: malformed ones are rejected) by the rules, and returns the
   * answer `stepPeer` must give.
   */
  apply(input: unknown): ModelResult {
    const event = validate(input);
    if (event === undefined) return { kind: "rejected", commands: [] };
    const before = JSON.stringify(this.state());
    const commands: PeerCommand[] = [];
    switch (event.type) {
      case "ESTABLISH_FAILED":
        this.establishFailed(event.at, commands);
        break;
      case "CLAIM_REQUESTED":
        this.claimRequested(event.at, commands);
        break;
      case "CLAIM_FAILED":
        // A share-time claim found no usable key: one more step of the device's claim backoff,
        // and a failure to establish a session like any other (a notice if it starts an episode).
        this.countClaimFailure(event.at);
        this.establishFailed(event.at, commands);
        break;
      case "DEVICE_CHANGED":
        // New keys for the device: whatever made its claims fail may be gone.
        this.clearClaimBackoff();
        break;
      case "SESSION_ESTABLISHED":
        this.sessionEstablished(commands);
        break;
      case "SESSION_LOST":
        // The backend holds no session any more. Not a failure: nothing is sent and no episode
        // starts (an episode already under way has no session to lose); the next notice is
        // answered over a new session.
        if (this.olm === "established") this.olm = "noSession";
        break;
      case "NOTICE_SENT":
        if (this.olm === "noticePending" && event.noticeId === this.ctx.noticeId) {
          this.olm = "noticeDelivered";
        }
        break;
      case "NOTICE_SEND_FAILED":
        if (this.olm === "noticePending" && event.noticeId === this.ctx.noticeId) {
          commands.push({ type: "retryNoOlm", noticeId: this.ctx.noticeId });
        }
        break;
      case "NOTICE_RECEIVED":
        this.noticeReceived(event.at, commands);
        break;
      case "DUMMY_QUEUED":
        this.dummyQueued(event.replyId, commands);
        break;
      case "REPLY_SUCCEEDED":
        this.replySucceeded(event.at, event.replyId, commands);
        break;
      case "REPLY_FAILED":
        this.replyFailed(event.at, event.replyId);
        break;
      case "RESUMED":
        this.resumed(commands);
        break;
    }
    const changed = JSON.stringify(this.state()) !== before;
    if (!changed && commands.length === 0) return { kind: "ignored", commands: [] };
    return { kind: "applied", commands };
  }

  private establishFailed(at: number, commands: PeerCommand[]): void {
    if (this.inEpisode()) return;
    this.ctx.noticeId = nextId(this.ctx.noticeId);
    this.ctx.unreachableSince = at;
    this.olm = "noticePending";
    commands.push({ type: "sendNoOlm", noticeId: this.ctx.noticeId });
  }

  /** Olm-side effect of a usable session (SESSION_ESTABLISHED, or a new-session reply's). */
  private olmSessionUp(commands: PeerCommand[]): void {
    if (this.inEpisode()) {
      if (this.olm === "noticePending") {
        commands.push({ type: "withdrawNoOlm", noticeId: this.ctx.noticeId });
      }
      const since = this.ctx.unreachableSince;
      // In an episode unreachableSince is always set; a null here would be a model bug.
      if (since === null) throw new Error("model: episode without unreachableSince");
      commands.push({ type: "reportPeerReachable", unreachableSince: since });
      this.ctx.unreachableSince = null;
    }
    this.olm = "established";
  }

  /** A session, of whatever origin, ends the claim backoff (R3, R5). */
  private sessionEstablished(commands: PeerCommand[]): void {
    this.olmSessionUp(commands);
    this.clearClaimBackoff();
  }

  /** No more waiting before a claim; a reply that was waiting for one is no longer waiting. */
  private clearClaimBackoff(): void {
    if (this.reply === "backingOff") this.reply = "idle";
    this.ctx.claimFailures = 0;
    this.ctx.claimFailedAt = null;
  }

  private countClaimFailure(at: number): void {
    this.ctx.claimFailures = Math.min(this.ctx.claimFailures + 1, MAX_CLAIM_FAILURES);
    this.ctx.claimFailedAt = at;
  }

  /** Whether a claim may be made at reading `at` (no failed claim, or its wait is over). */
  private claimWaitOver(at: number): boolean {
    const { claimFailedAt, claimFailures } = this.ctx;
    return (
      claimFailedAt === null || modelWaitIsOver(claimFailedAt, at, modelBackoffMs(claimFailures))
    );
  }

  /**
   * R5: a share would claim a key for this device. Claim unless the backoff runs; then skip and
   * say when it ends, measured from the failure or from this reading if the clock went back.
   */
  private claimRequested(at: number, commands: PeerCommand[]): void {
    if (this.claimWaitOver(at)) {
      commands.push({ type: "claimForShare" });
      return;
    }
    const anchor = Math.min(this.ctx.claimFailedAt ?? at, at);
    this.ctx.claimFailedAt = anchor;
    commands.push({ type: "skipClaim", until: anchor + modelBackoffMs(this.ctx.claimFailures) });
  }

  private noticeReceived(at: number, commands: PeerCommand[]): void {
    const { lastReplyAt } = this.ctx;
    // Decided before anything is recorded, with the anchors as they were.
    const claimAllowed = this.claimWaitOver(at);
    // Record the notice: its latest reading, even one earlier than the last.
    this.ctx.lastNoticeReceivedAt = at;

    // Decide with the old anchors. A reply in flight answers this notice too.
    if (this.reply === "idle" || this.reply === "backingOff") {
      // The hour runs from the last delivered m.dummy (REPLY_SUCCEEDED), or from the loss of a
      // new-session reply's m.dummy (its session was made all the same), nothing else.
      const hourNotOver = lastReplyAt !== null && !modelWaitIsOver(lastReplyAt, at, ONE_HOUR_MS);
      if (hourNotOver) {
        // rule 1: no command
      } else if (this.reply === "idle" && this.olm === "established") {
        this.ctx.replyId = nextId(this.ctx.replyId);
        this.reply = "existingSession";
        commands.push({ type: "sendDummy", replyId: this.ctx.replyId });
      } else if (claimAllowed) {
        this.ctx.replyId = nextId(this.ctx.replyId);
        this.reply = "newSession";
        commands.push({ type: "claimKeyAndSendDummy", replyId: this.ctx.replyId });
      } else {
        // Still backing off: after a failed reply claim (R3), or a failed claim for a share
        // (R5), the notice waits; no claim, no command.
        this.reply = "backingOff";
      }
    }

    // Re-anchor: a backwards clock restarts a wait instead of shortening it.
    if (this.ctx.lastReplyAt !== null) this.ctx.lastReplyAt = Math.min(this.ctx.lastReplyAt, at);
    if (this.ctx.claimFailedAt !== null) {
      this.ctx.claimFailedAt = Math.min(this.ctx.claimFailedAt, at);
    }
  }

  /**
   * The reply's m.dummy is in the outbox. For a new-session reply the session now exists, which
   * ends a failure episode like any session, and our claim succeeded, which ends the claim
   * backoff (whatever becomes of the m.dummy). Nothing is delivered yet: the hour does not start.
   */
  private dummyQueued(replyId: number, commands: PeerCommand[]): void {
    if (replyId !== this.ctx.replyId) return;
    if (this.reply === "newSession") {
      this.olmSessionUp(commands);
      this.reply = "newSessionDummyQueued";
      this.ctx.claimFailures = 0;
      this.ctx.claimFailedAt = null;
    } else if (this.reply === "existingSession") {
      this.reply = "existingSessionDummyQueued";
    }
  }

  /** The homeserver accepted the m.dummy: the reply is done and the hour starts now. */
  private replySucceeded(at: number, replyId: number, commands: PeerCommand[]): void {
    if (replyId !== this.ctx.replyId || !isQueued(this.reply)) return;
    const newSession = this.reply === "newSessionDummyQueued";
    this.reply = "idle";
    this.ctx.lastReplyAt = at;
    this.ctx.claimFailures = 0;
    this.ctx.claimFailedAt = null;
    commands.push({ type: "reportRepliedToNotice", newSession });
  }

  /**
   * After a restart: make sure a pending notice goes out; redo a reply whose m.dummy was not
   * made yet (under a fresh id); make sure an m.dummy already made is still queued (same id).
   */
  private resumed(commands: PeerCommand[]): void {
    if (this.olm === "noticePending") {
      commands.push({ type: "retryNoOlm", noticeId: this.ctx.noticeId });
    }
    if (this.reply === "newSession" || this.reply === "existingSession") {
      this.ctx.replyId = nextId(this.ctx.replyId);
      const type = this.reply === "newSession" ? "claimKeyAndSendDummy" : "sendDummy";
      commands.push({ type, replyId: this.ctx.replyId });
    } else if (isQueued(this.reply)) {
      commands.push({ type: "ensureDummyQueued", replyId: this.ctx.replyId });
    }
  }

  private replyFailed(at: number, replyId: number): void {
    if (replyId !== this.ctx.replyId) return;
    if (this.reply === "newSessionDummyQueued") {
      // The m.dummy is lost, but the session was made for this reply: the spec's hour is about
      // making sessions, so it starts now (and the claim backoff is over: the claim worked).
      this.reply = "idle";
      this.ctx.lastReplyAt = at;
      this.ctx.claimFailures = 0;
      this.ctx.claimFailedAt = null;
    } else if (this.reply === "existingSession" || this.reply === "existingSessionDummyQueued") {
      // No key was claimed and no session made: no backoff, and no hour.
      this.reply = "idle";
    } else if (this.reply === "newSession") {
      if (this.olm === "established") {
        this.reply = "idle";
      } else {
        this.reply = "backingOff";
        this.ctx.claimFailures = Math.min(this.ctx.claimFailures + 1, MAX_CLAIM_FAILURES);
        this.ctx.claimFailedAt = at;
      }
    }
  }
}
