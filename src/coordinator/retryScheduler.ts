import type { WakeUp } from "./keyWithholdingTypes.js";

export interface RetrySchedulerParts {
  readonly nextWakeAt: () => WakeUp;
  /** One scheduled round: resume, send what is queued and retry what is due. Never rejects. */
  readonly run: () => Promise<unknown>;
  readonly wallNow: () => number;
}

/** The longest single timer: a wake-up far away is re-checked at least this often. */
const MAX_TIMER_MS = 60_000;

/**
 * The optional timer loop behind `start()`/`stop()`: the one place the library sets timers. It
 * asks when it next needs to act, sleeps until then, runs one round, and asks again; anything
 * that may move the next wake-up earlier (a failed send, a new notice) pokes it. One round at
 * a time; timers never keep a Node process alive.
 */
export class RetryScheduler {
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | undefined;
  #round: Promise<unknown> | undefined;

  constructor(private readonly parts: RetrySchedulerParts) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.poke();
  }

  stop(): void {
    this.#running = false;
    this.#clear();
  }

  /** Re-reads the next wake-up and sets the timer for it. */
  poke(): void {
    if (!this.#running || this.#round !== undefined) return;
    const wake = this.parts.nextWakeAt();
    if (wake.kind === "idle") {
      this.#clear();
      return;
    }
    const inMs = Math.min(wake.inMs, MAX_TIMER_MS);
    const at = this.parts.wallNow() + inMs;
    if (this.#timer !== undefined && this.#timerAt !== undefined && this.#timerAt <= at) return;
    this.#clear();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), inMs);
    unref(this.#timer);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    if (!this.#running) return;
    this.#round = this.parts
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.#round = undefined;
        this.poke();
      });
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }
}

function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    const release: unknown = timer.unref;
    if (typeof release === "function") release.call(timer);
  }
}
