import type { Call, CommandOp } from "./ipcProtocol.js";
import type { Prng } from "./prng.js";

/*
 * Where and when the parent SIGKILLs alice, decided by the seeded PRNG. Each transport call the
 * child makes is a chance to die before the relay applies it or after (applied, not answered);
 * each command may also get a kill on a timer a few ms in, wherever the child is then (often in
 * the middle of a SQLite commit).
 */

export const KILL_POINTS = [
  /** A request is in the outbox (committed) but never reaches the server: "write, no send". */
  "beforeSend",
  /** The server applied a request; the child dies before hearing so: "send, no ack". */
  "afterSend",
  /** Before the second (or later) request of one flush: some of the batch went, some not. */
  "midBatch",
  /** During a reply to an m.no_olm: its /keys/claim or its m.dummy send, before or after. */
  "midReply",
  /** The /keys/claim of establishSessions, before or after the server handed out keys. */
  "claim",
  /** Pulling or acknowledging /sync: events handled but not acknowledged come again. */
  "sync",
  /** Publishing one-time keys. */
  "upload",
  /** Right before a store commit (its changes only in memory) or right after it. */
  "commit",
  /** A timer while a command runs. */
  "timed",
] as const;

export type KillPoint = (typeof KILL_POINTS)[number];

export interface CallContext {
  readonly phase: "startup" | "command";
  readonly op: CommandOp | "startup";
  readonly call: Call;
  /** sendToDevice calls this child already made during the current command (or start-up). */
  readonly sendsBefore: number;
}

export interface KillDecision {
  readonly point: KillPoint;
  /** Apply the call at the server first, then kill without answering. */
  readonly applyFirst: boolean;
}

export interface KillRates {
  /** Chance per transport call, by what the call would be killed as. */
  readonly call: Readonly<Record<Exclude<KillPoint, "timed">, number>>;
  /** Chance per command of a timer kill. */
  readonly timer: number;
  readonly maxTimerMs: number;
  /**
   * Chance per start of a timer kill, in a window after module loading: opening libolm and
   * SQLite, restoring, the start-up flush, the first publication of keys.
   */
  readonly startup: number;
  readonly startupWindowMs: readonly [number, number];
  /** Kills in a row without a command completing, after which the next attempt runs clean. */
  readonly perCommand: number;
}

// Claims and uploads come with every share; sends and replies are where the outbox matters.
export const DEFAULT_RATES: KillRates = {
  call: {
    beforeSend: 0.3,
    afterSend: 0.3,
    midBatch: 0.45,
    midReply: 0.5,
    claim: 0.08,
    sync: 0.15,
    upload: 0.15,
    // Several commits per command: a small chance each.
    commit: 0.04,
  },
  timer: 0.2,
  maxTimerMs: 20,
  startup: 0.08,
  startupWindowMs: [150, 600],
  perCommand: 3,
};

export class KillPlan {
  kills = 0;
  killsDuringStartup = 0;
  readonly byPoint: Record<KillPoint, number> = Object.fromEntries(
    KILL_POINTS.map((point) => [point, 0]),
  ) as Record<KillPoint, number>;
  #streak = 0;

  constructor(
    private readonly prng: Prng,
    /** Kills stop once this many happened. */
    readonly target: number,
    private readonly rates: KillRates = DEFAULT_RATES,
  ) {}

  get armed(): boolean {
    return this.kills < this.target && this.#streak < this.rates.perCommand;
  }

  onCall(context: CallContext): KillDecision | undefined {
    if (!this.armed) return undefined;
    const applyFirst = this.prng.chance(0.5);
    const point = classify(context, applyFirst);
    return this.prng.chance(this.rates.call[point]) ? { point, applyFirst } : undefined;
  }

  /** A delay in ms for a timer kill during this command, or undefined. */
  timerFor(op: CommandOp): number | undefined {
    if (op === "states" || !this.armed || !this.prng.chance(this.rates.timer)) return undefined;
    return this.prng.float() * this.rates.maxTimerMs;
  }

  /** A delay in ms for a timer kill while the child starts, or undefined. */
  startupTimer(): number | undefined {
    if (!this.armed || !this.prng.chance(this.rates.startup)) return undefined;
    const [from, to] = this.rates.startupWindowMs;
    return from + this.prng.float() * (to - from);
  }

  record(point: KillPoint, phase: "startup" | "command"): void {
    this.kills += 1;
    this.#streak += 1;
    this.byPoint[point] += 1;
    if (phase === "startup") this.killsDuringStartup += 1;
  }

  commandCompleted(): void {
    this.#streak = 0;
  }
}

function classify(context: CallContext, applyFirst: boolean): Exclude<KillPoint, "timed"> {
  const { call, op } = context;
  switch (call.op) {
    case "sendToDevice":
      if (call.request.eventType === "m.room.encrypted") return "midReply";
      if (!applyFirst && context.sendsBefore > 0) return "midBatch";
      return applyFirst ? "afterSend" : "beforeSend";
    case "claimKeys":
      // establishSessions claims for shares; any other claim is a reply's (sync, start-up).
      return op === "establish" ? "claim" : "midReply";
    case "syncPull":
    case "syncAck":
      return "sync";
    case "uploadKeys":
      return "upload";
    case "commitPoint":
      return "commit";
  }
}
