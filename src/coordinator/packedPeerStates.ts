import { keptPeerKeyOf, type PeerDevice, type PeerKey } from "../devices/peerDevice.js";
import type { PeerContext } from "../machine/peerContext.js";

/** A peer machine's state as the compiled machine steps it: its leaf pair code and context. */
export interface PeerState {
  readonly leaves: number;
  readonly context: PeerContext;
}

const NO_TIMES = -1;
const TIME_COUNT = 4;
const INITIAL_CAPACITY = 1024;

/*
 * Every tracked device's machine state, packed: a struct of typed arrays indexed by a slot the
 * key map hands out. Per device that is 2 B (leaf pair, failure count), 8 B (the two ids) and
 * 4 B (where its times are); the four times (8 B each) live in a shared pool and only devices
 * with some time set hold an entry there, so a room of idle devices costs the slot and its key
 * map entry (docs/performance.md has the figures). A device back at the initial state is
 * dropped: it is indistinguishable from one never seen.
 *
 * Times are finite numbers (the event parser and the store reader make sure), so NaN can stand
 * for null without ambiguity.
 */
export class PackedPeerStates {
  readonly #slots = new Map<PeerKey, number>();
  readonly #freeSlots: number[] = [];
  #leaves = new Uint8Array(INITIAL_CAPACITY);
  #failures = new Uint8Array(INITIAL_CAPACITY);
  #noticeIds = new Uint32Array(INITIAL_CAPACITY);
  #replyIds = new Uint32Array(INITIAL_CAPACITY);
  #timesAt = new Int32Array(INITIAL_CAPACITY).fill(NO_TIMES);
  #used = 0;
  #times = new Float64Array(INITIAL_CAPACITY * TIME_COUNT);
  readonly #freeTimes: number[] = [];
  #timesUsed = 0;

  constructor(
    /** The state a device never seen is in: writing it drops the device. */
    private readonly initialLeaves: number,
  ) {}

  get size(): number {
    return this.#slots.size;
  }

  keys(): IterableIterator<PeerKey> {
    return this.#slots.keys();
  }

  /** The device's state, or undefined for a device never seen (or back at the initial state). */
  read(key: PeerKey): PeerState | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    const at = this.#timesAt[slot] ?? NO_TIMES;
    const times = this.#times;
    return {
      leaves: this.#leaves[slot] ?? this.initialLeaves,
      context: {
        noticeId: this.#noticeIds[slot] ?? 0,
        unreachableSince: at === NO_TIMES ? null : orNull(times[at]),
        lastNoticeReceivedAt: at === NO_TIMES ? null : orNull(times[at + 1]),
        replyId: this.#replyIds[slot] ?? 0,
        lastReplyAt: at === NO_TIMES ? null : orNull(times[at + 2]),
        claimFailures: this.#failures[slot] ?? 0,
        claimFailedAt: at === NO_TIMES ? null : orNull(times[at + 3]),
      },
    };
  }

  /** Only the leaf pair (no context built): the hot check on acks and retries. */
  leavesOf(key: PeerKey): number {
    const slot = this.#slots.get(key);
    return slot === undefined ? this.initialLeaves : (this.#leaves[slot] ?? this.initialLeaves);
  }

  /** `device`, when given, is the one `key` names: a new slot keeps `keptPeerKeyOf(device)`. */
  write(key: PeerKey, state: PeerState, device?: PeerDevice): void {
    const { leaves, context } = state;
    let slot = this.#slots.get(key);
    if (isInitial(leaves, context, this.initialLeaves)) {
      if (slot !== undefined) this.#drop(key, slot);
      return;
    }
    if (slot === undefined) {
      slot = this.#freeSlots.pop() ?? this.#grow();
      this.#slots.set(device === undefined ? compactCopy(key) : keptPeerKeyOf(device), slot);
    }
    this.#leaves[slot] = leaves;
    this.#failures[slot] = context.claimFailures;
    this.#noticeIds[slot] = context.noticeId;
    this.#replyIds[slot] = context.replyId;
    const {
      unreachableSince: u,
      lastNoticeReceivedAt: l,
      lastReplyAt: r,
      claimFailedAt: c,
    } = context;
    let at = this.#timesAt[slot] ?? NO_TIMES;
    if (u === null && l === null && r === null && c === null) {
      if (at !== NO_TIMES) {
        this.#freeTimes.push(at);
        this.#timesAt[slot] = NO_TIMES;
      }
      return;
    }
    if (at === NO_TIMES) {
      at = this.#freeTimes.pop() ?? this.#growTimes();
      this.#timesAt[slot] = at;
    }
    const times = this.#times;
    times[at] = u ?? Number.NaN;
    times[at + 1] = l ?? Number.NaN;
    times[at + 2] = r ?? Number.NaN;
    times[at + 3] = c ?? Number.NaN;
  }

  #drop(key: PeerKey, slot: number): void {
    this.#slots.delete(key);
    const at = this.#timesAt[slot] ?? NO_TIMES;
    if (at !== NO_TIMES) this.#freeTimes.push(at);
    this.#timesAt[slot] = NO_TIMES;
    this.#freeSlots.push(slot);
  }

  #grow(): number {
    const slot = this.#used;
    this.#used += 1;
    if (slot < this.#leaves.length) return slot;
    const capacity = grownCapacity(this.#leaves.length);
    this.#leaves = grown(this.#leaves, new Uint8Array(capacity));
    this.#failures = grown(this.#failures, new Uint8Array(capacity));
    this.#noticeIds = grown(this.#noticeIds, new Uint32Array(capacity));
    this.#replyIds = grown(this.#replyIds, new Uint32Array(capacity));
    this.#timesAt = grown(this.#timesAt, new Int32Array(capacity).fill(NO_TIMES));
    return slot;
  }

  #growTimes(): number {
    const at = this.#timesUsed;
    this.#timesUsed += TIME_COUNT;
    if (at < this.#times.length) return at;
    this.#times = grown(
      this.#times,
      new Float64Array(grownCapacity(this.#times.length / TIME_COUNT) * TIME_COUNT),
    );
    return at;
  }
}

/**
 * The key as a string of exactly its length. A key fresh from JSON.stringify can carry tens of
 * bytes of spare capacity (V8 sizes the buffer before it knows the length), a third of a
 * device's cost here; a parsed copy has none. Lookups may use any string with the same text.
 */
const compactCopy = (key: PeerKey): PeerKey => JSON.parse(JSON.stringify(key)) as PeerKey;

/**
 * A quarter more each time: at most a fifth of the slots stand empty (doubling leaves up to half),
 * for some five copies per slot over its life instead of two, cheap for typed arrays.
 */
const grownCapacity = (length: number): number => Math.ceil(length * 1.25);

function grown<T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

const orNull = (time: number | undefined): number | null =>
  time === undefined || Number.isNaN(time) ? null : time;

function isInitial(leaves: number, context: PeerContext, initialLeaves: number): boolean {
  return (
    leaves === initialLeaves &&
    context.noticeId === 0 &&
    context.replyId === 0 &&
    context.claimFailures === 0 &&
    context.unreachableSince === null &&
    context.lastNoticeReceivedAt === null &&
    context.lastReplyAt === null &&
    context.claimFailedAt === null
  );
}
