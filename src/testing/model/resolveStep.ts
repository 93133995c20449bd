import type { PeerContext } from "../../machine/peerContext.js";
import type { ClockMove, IdPick, Step } from "./peerRunArbitraries.js";
import { H, MALFORMED } from "./peerRunArbitraries.js";
import { modelBackoffMs } from "./referenceModel.js";

/** The fields a symbolic step is resolved against (the machine's and the model's context). */
export type RunContext = Pick<
  PeerContext,
  "noticeId" | "replyId" | "lastReplyAt" | "claimFailures" | "claimFailedAt"
>;

/** The clock reading for the next step. */
export function nextNow(now: number, clock: ClockMove, ctx: RunContext): number {
  switch (clock.k) {
    case "same":
      return now;
    case "fwd":
      return now + clock.ms;
    case "back":
      return now - clock.ms;
    case "replyEdge":
      return ctx.lastReplyAt === null ? now : ctx.lastReplyAt + H + clock.off;
    case "backoffEdge":
      return ctx.claimFailedAt === null || ctx.claimFailures === 0
        ? now
        : ctx.claimFailedAt + modelBackoffMs(ctx.claimFailures) + clock.off;
  }
}

const pickId = (pick: IdPick, current: number): number => {
  switch (pick.k) {
    case "current":
      return current;
    case "rel":
      return Math.max(0, current + pick.d);
    case "abs":
      return pick.id;
  }
};

/**
 * The concrete input for an event step (persist steps have none). A share answer is resolved by
 * `drive`, which knows whether a granted claim awaits it; here it is always answered.
 */
export function resolveEvent(step: Step, at: number, ctx: RunContext): unknown {
  const { action } = step;
  let event: Record<string, unknown>;
  switch (action.a) {
    case "persist":
      return undefined;
    case "malformed": {
      const make = MALFORMED[action.variant];
      return make === undefined ? null : make(at);
    }
    case "fail":
      event = { type: "ESTABLISH_FAILED", at };
      break;
    case "claimRequested":
      event = { type: "CLAIM_REQUESTED", at };
      break;
    case "claimFailed":
      event = { type: "CLAIM_FAILED", at };
      break;
    case "deviceChanged":
      event = { type: "DEVICE_CHANGED", at };
      break;
    case "shareAnswer":
      event = action.ok
        ? { type: "SESSION_ESTABLISHED", at, origin: "outbound" }
        : { type: "CLAIM_FAILED", at };
      break;
    case "session":
      event = { type: "SESSION_ESTABLISHED", at, origin: action.origin };
      break;
    case "sessionLost":
      event = { type: "SESSION_LOST", at };
      break;
    case "noticeSent":
      event = { type: "NOTICE_SENT", at, noticeId: pickId(action.id, ctx.noticeId) };
      break;
    case "noticeSendFailed":
      event = { type: "NOTICE_SEND_FAILED", at, noticeId: pickId(action.id, ctx.noticeId) };
      break;
    case "noticeIn":
      event = { type: "NOTICE_RECEIVED", at };
      break;
    case "dummyQueued":
      event = { type: "DUMMY_QUEUED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "replyOk":
      event = { type: "REPLY_SUCCEEDED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "replyFailed":
      event = { type: "REPLY_FAILED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "resumed":
      event = { type: "RESUMED", at };
      break;
  }
  return step.extra ? { ...event, note: "stray field" } : event;
}
