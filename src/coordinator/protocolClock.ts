/**
 * The two clocks a client gives the library. `wall` is calendar time (ms since the epoch), used
 * only where it is compared with the server's `origin_server_ts`. `monotonic` only ever moves
 * forward at the rate of real time (like `performance.now()`); every protocol wait is measured
 * on it, so a wall clock set wrong, or corrected, can neither shorten nor stretch a wait.
 */
export interface Clock {
  /**
   * Calendar time now, in ms since the Unix epoch (like `Date.now()`). May jump either way when
   * the system clock is set; the library copes. Hook times and `until`s are on this clock.
   */
  readonly wall: () => number;
  /**
   * Elapsed time in ms from any fixed origin (like `performance.now()`); must never go back.
   * Only differences between its readings are used. A reading that throws or is not a finite
   * number is ignored: time stands still until a good one comes.
   */
  readonly monotonic: () => number;
}

/** The default {@link Clock}: `Date.now()` for `wall`, `performance.now()` for `monotonic`. */
export const systemClock: Clock = {
  wall: () => Date.now(),
  monotonic: () => performance.now(),
};

/**
 * Protocol time, the `at` of every machine event: the wall reading when the coordinator started,
 * plus monotonic time elapsed since. It never goes backwards, and it advances exactly as real
 * time does whatever the wall clock does meanwhile. A reading that throws or is not a finite
 * number is ignored (time stands still) rather than trusted.
 */
export class ProtocolClock {
  readonly #clock: Clock;
  readonly #origin: number;
  readonly #monotonicOrigin: number;
  #last: number;

  /**
   * `floor`: the highest protocol time a previous run committed. Protocol time starts no lower,
   * so a wall clock set back across a restart cannot shorten a wait that began before it.
   */
  constructor(clock: Clock, floor?: number) {
    this.#clock = clock;
    this.#monotonicOrigin = read(clock, "monotonic") ?? 0;
    const wall = read(clock, "wall") ?? 0;
    this.#origin = floor !== undefined && Number.isFinite(floor) && floor > wall ? floor : wall;
    this.#last = this.#origin;
  }

  /** Protocol time now. */
  now(): number {
    const monotonic = read(this.#clock, "monotonic");
    if (monotonic !== undefined) {
      this.#last = Math.max(this.#last, this.#origin + (monotonic - this.#monotonicOrigin));
    }
    return this.#last;
  }

  /** The wall clock now; protocol time if the wall clock cannot be read. */
  wall(): number {
    return read(this.#clock, "wall") ?? this.now();
  }

  /**
   * The wall time of a past protocol instant: now on the wall clock minus the real time elapsed
   * since. An instant recorded while the wall clock was wrong maps to the right wall time once
   * the clock is right again, so a clock error does not stick to what was recorded under it.
   */
  toWall(protocolTime: number): number {
    return this.wall() - (this.now() - protocolTime);
  }
}

function read(clock: Clock, which: keyof Clock): number | undefined {
  try {
    const value: unknown = clock[which]();
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A single function serves as both clocks: for simulations and tests that drive time by hand. */
export const clockFrom = (clock: Clock | (() => number) | undefined): Clock =>
  clock === undefined
    ? systemClock
    : typeof clock === "function"
      ? { wall: clock, monotonic: clock }
      : clock;
