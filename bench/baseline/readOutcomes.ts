import {
  parseCurve25519PublicKey,
  parseDeviceId,
  parseEd25519PublicKey,
  parseUserId,
} from "../../src/index.js";

/*
 * The baseline reads the same untrusted input the library reads, with the library's exported
 * id parsers (so both do the same validation work per entry): the list must be an array of at
 * most 1,000,000 entries; each entry an object with a `device` of four valid ids and keys and an
 * `outcome` of "established" or "failed"; a malformed entry, or one naming our own device, is
 * refused and skipped. Unlike the library it builds no frozen device copy and no refusal
 * objects with paths (it only counts refusals).
 */

export const MAX_ENTRIES = 1_000_000;

export interface ReadOutcome {
  readonly userId: string;
  readonly deviceId: string;
  readonly curve25519: string;
  readonly failed: boolean;
}

export interface OwnIds {
  readonly userId: string;
  readonly deviceId: string;
  readonly curve25519: string;
}

/** Reads one entry, or undefined when it is refused. */
export function readOutcome(entry: unknown, own: OwnIds): ReadOutcome | undefined {
  try {
    if (typeof entry !== "object" || entry === null) return undefined;
    const device: unknown = Reflect.get(entry, "device");
    if (typeof device !== "object" || device === null) return undefined;
    const userId = parseUserId(Reflect.get(device, "userId"));
    if (!userId.ok) return undefined;
    const deviceId = parseDeviceId(Reflect.get(device, "deviceId"));
    if (!deviceId.ok) return undefined;
    const curve25519 = parseCurve25519PublicKey(Reflect.get(device, "curve25519"));
    if (!curve25519.ok) return undefined;
    if (!parseEd25519PublicKey(Reflect.get(device, "ed25519")).ok) return undefined;
    const outcome: unknown = Reflect.get(entry, "outcome");
    if (outcome !== "established" && outcome !== "failed") return undefined;
    const isOwn =
      userId.value === own.userId &&
      (deviceId.value === own.deviceId || curve25519.value === own.curve25519);
    if (isOwn) return undefined;
    return {
      userId: userId.value,
      deviceId: deviceId.value,
      curve25519: curve25519.value,
      failed: outcome === "failed",
    };
  } catch {
    return undefined;
  }
}

/** The list itself: an array, not too long; otherwise nothing is read. */
export function readList(input: unknown): readonly unknown[] | undefined {
  try {
    if (!Array.isArray(input) || input.length > MAX_ENTRIES) return undefined;
    return input;
  } catch {
    return undefined;
  }
}
