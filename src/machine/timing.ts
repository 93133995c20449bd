/**
 * The protocol's clocks, as pure arithmetic on millisecond readings carried by events.
 *
 * A wait runs from an anchor reading. A reading earlier than the anchor means the clock went
 * backwards: the wait counts as not yet over, and the machine moves the anchor back to that
 * reading, so a backwards clock can delay a retry but never shorten a wait.
 */

/** Spec: "never create a new Olm session with a device more than once an hour". */
export const REPLY_INTERVAL_MS = 60 * 60 * 1000;

/** Key-claim backoff for replies: 15 s × 2ⁿ after the (n+1)-th consecutive failure, capped. */
export const CLAIM_BACKOFF_BASE_MS = 15_000;
/** The longest claim backoff, in ms (15 min): reached from the 7th consecutive failure on. */
export const CLAIM_BACKOFF_CAP_MS = 15 * 60 * 1000;

/** Failures beyond this no longer lengthen the wait (15 s × 2⁶ already exceeds the cap). */
export const MAX_COUNTED_CLAIM_FAILURES = 8;

/**
 * How long, in ms, to wait before claiming a key for a device again after `consecutiveFailures`
 * failed claims in a row: 0 for none (claim at once), then 15 s, 30 s, 60 s, … up to
 * {@link CLAIM_BACKOFF_CAP_MS}. The wait runs from the `at` of the last failed claim.
 */
export function claimBackoffMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  const doublings = Math.min(consecutiveFailures, MAX_COUNTED_CLAIM_FAILURES) - 1;
  return Math.min(CLAIM_BACKOFF_BASE_MS * 2 ** doublings, CLAIM_BACKOFF_CAP_MS);
}

/** Whether `waitMs` has passed since `anchor`; a reading before the anchor never counts. */
export function hasWaited(anchor: number, at: number, waitMs: number): boolean {
  return at >= anchor && at - anchor >= waitMs;
}

/** The anchor to keep after seeing reading `at`: moved back if the clock went backwards. */
export function reanchor(anchor: number | null, at: number): number | null {
  return anchor !== null && at < anchor ? at : anchor;
}

/**
 * Notice and reply ids wrap within 32 bits, so every id an event may carry has a successor the
 * event parser accepts (an id at Number.MAX_SAFE_INTEGER would wedge a device), and a packed
 * state can hold them in a Uint32Array. Only equality with the current id matters: an ack
 * 4 billion episodes stale cannot exist.
 */
export const MAX_PEER_ID = 0xffff_ffff;

export const nextPeerId = (id: number): number => (id >= MAX_PEER_ID ? 1 : id + 1);
