import { type Failed, olmFailure } from "./olmFailure.js";

/*
 * Every size bound on what this library hands to libolm, in one place (docs/olm-limits.md).
 *
 * Why there must be bounds: @matrix-org/olm 3.2.15's JS binding copies most string arguments
 * onto the wasm *stack* (its `stackAlloc`), which is 65,536 bytes (olm.wasm's __stack_pointer
 * starts at 103,584; its static data and vtables end just below 38,048). Nothing checks the
 * size: a longer argument walks the stack pointer into the static data and overwrites it, for
 * the whole process. Measured (node 20, fresh process per size, the free stack painted before
 * each call and scanned after it, static memory compared byte for byte):
 *
 *   call (argument varied)                        largest size that stays on the stack
 *   Utility.ed25519_verify (message)              62,256 bytes
 *   Session.create_inbound_from (genuine body)    62,480 bytes (~3 KB of libolm's own frames)
 *   Utility.ed25519_verify (signature)            62,481 bytes
 *   Account.sign (message)                        64,160 bytes
 *   Session.create_inbound_from (key)             65,296 bytes
 *   Session.matches_inbound_from (body)           65,403 bytes
 *   Session.create_outbound (either key)          65,408 bytes
 *   Utility.ed25519_verify (key)                  65,408 bytes
 *
 * Past that: a 64–103 KB pre-key body through create_inbound_from often returns normally, yet
 * later calls anywhere in the process fail (OLM.BAD_MESSAGE_MAC, garbled plaintexts) or trap
 * ("memory access out of bounds", "null function or function signature mismatch"); from
 * ~103.6 KB the stack pointer goes negative and the binding throws a harmless RangeError.
 *
 * `Session.encrypt` and `Session.decrypt` copy to the wasm *heap* instead: no overflow, but the
 * heap only grows (a 100 MB plaintext leaves wasm memory at 223 MiB for the life of the
 * process) and a failed allocation (a 1.5 GB plaintext) traps.
 *
 * The bounds keep every call's stack-copied arguments, together, under half the smallest
 * measured threshold (31,128 bytes), and stay far above real traffic: an Olm message carrying
 * an m.room_key is 1–3 KB, a signed key object well under 1 KB, a key 43 characters and an
 * ed25519 signature 86.
 */

/**
 * An Olm message body (type 0 or 1). Reaches create_inbound_from and matches_inbound_from
 * (stack) and decrypt (heap). With a key, 30,784 bytes: 2.03× under the 62,480 measured.
 */
export const MAX_OLM_BODY_BYTES = 30 * 1024;

/**
 * The plaintext JSON given to `Session.encrypt` (heap). Chosen so that its pre-key message body
 * stays within MAX_OLM_BODY_BYTES: what we send, we (and peers with the same bound) accept.
 */
export const MAX_OLM_PLAINTEXT_BYTES = 22 * 1024;

/** A curve25519 or ed25519 key: identity keys, the claimed one-time key. Real ones are 43. */
export const MAX_OLM_KEY_BYTES = 64;

/** An ed25519 signature given to ed25519_verify. Real ones are 86 characters. */
export const MAX_ED25519_SIGNATURE_BYTES = 128;

/**
 * The canonical JSON given to `ed25519_verify` and to `sign`. With a key and a signature,
 * 16,576 bytes: 3.76× under the 62,256 measured for ed25519_verify.
 */
export const MAX_SIGNED_JSON_BYTES = 16 * 1024;

/**
 * The bytes libolm's binding allocates for `value`, counted as its own `lengthBytesUTF8` does
 * (a surrogate counts 4 and swallows the next unit), but never past `limit + 1`: the loop stops
 * as soon as the answer is "too large", so a huge string costs at most `limit` steps.
 */
export function olmByteLength(value: string, limit: number): number {
  // Every code unit costs at least one byte.
  if (value.length > limit) return limit + 1;
  let bytes = 0;
  for (let i = 0; i < value.length && bytes <= limit; i++) {
    const unit = value.charCodeAt(i);
    if (unit <= 0x7f) bytes += 1;
    else if (unit <= 0x7ff) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdfff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return Math.min(bytes, limit + 1);
}

/**
 * `inputTooLarge` naming `field` and `limit` when `value` takes more than `limit` bytes in
 * libolm's memory; undefined when it fits. Check before the libolm call, never after.
 */
export function exceedsOlmLimit(field: string, value: string, limit: number): Failed | undefined {
  if (olmByteLength(value, limit) <= limit) return undefined;
  return olmFailure(
    "inputTooLarge",
    `${field} is over ${limit} bytes, the most libolm is given (docs/olm-limits.md).`,
  );
}

/**
 * The check for a key. Keys arrive typed (a branded string) but a caller's cast can make
 * anything of them, so a non-string is `malformedInput` here rather than a throw in libolm.
 */
export function exceedsKeyLimit(field: string, key: unknown): Failed | undefined {
  if (typeof key !== "string") return olmFailure("malformedInput", `${field} is not a string.`);
  return exceedsOlmLimit(field, key, MAX_OLM_KEY_BYTES);
}

/** Both keys of a device, which the caller hands us typed but unchecked. */
export function exceedsDeviceKeyLimits(device: {
  readonly curve25519: unknown;
  readonly ed25519: unknown;
}): Failed | undefined {
  return (
    exceedsKeyLimit("The device's curve25519 key", device.curve25519) ??
    exceedsKeyLimit("The device's ed25519 key", device.ed25519)
  );
}
