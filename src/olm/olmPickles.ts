import type Olm from "@matrix-org/olm";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { describeOlmError } from "./olmFailure.js";
import { olmByteLength } from "./olmInputLimits.js";
import { olmModule } from "./olmModule.js";

/*
 * Pickling with a key the client holds (docs/olm-limits.md for why every size is bounded).
 *
 * libolm's binding copies the key and the pickle onto its 64 KiB wasm stack for `unpickle`, and
 * allocates the pickle it returns there for `pickle`. The largest pickles libolm 3.2.15 makes,
 * measured: an account at its cap of 100 one-time keys plus two fallback keys, 9,632 characters;
 * a session at its caps (5 receiver chains, 40 skipped message keys), 4,299. The limits below
 * leave 1.7× and 1.9× of headroom over those, and key plus pickle stay within half the smallest
 * stack threshold measured (31,128 bytes, olmInputLimits.ts). Anything longer is not a pickle
 * libolm made, so it is refused before libolm sees it.
 */

/** The shortest pickle key accepted: libolm derives its AES and HMAC keys from it. */
export const MIN_PICKLE_KEY_BYTES = 32;
/** The longest: the key goes onto the wasm stack with every pickle. */
export const MAX_PICKLE_KEY_BYTES = 1024;
/** An account pickle: 9,632 characters at libolm's caps. */
export const MAX_ACCOUNT_PICKLE_BYTES = 16 * 1024;
/** A session pickle: 4,299 characters at libolm's caps. */
export const MAX_SESSION_PICKLE_BYTES = 8 * 1024;

interface Picklable {
  pickle(key: Uint8Array): string;
}

/** The client's pickle key, copied: the caller may reuse or wipe its own array. */
export class PickleKey {
  private constructor(private readonly bytes: Uint8Array) {}

  static from(key: unknown): Result<PickleKey, AccountFailure> {
    if (!(key instanceof Uint8Array)) {
      return accountFailure("invalidArgument", "pickleKey must be a Uint8Array.");
    }
    if (key.length < MIN_PICKLE_KEY_BYTES || key.length > MAX_PICKLE_KEY_BYTES) {
      return accountFailure(
        "invalidArgument",
        `pickleKey must be ${MIN_PICKLE_KEY_BYTES} to ${MAX_PICKLE_KEY_BYTES} bytes.`,
      );
    }
    return ok(new PickleKey(Uint8Array.from(key)));
  }

  /** Pickles a libolm object. Throws what libolm throws (the caller decides what that means). */
  pickle(target: Picklable): string {
    return target.pickle(this.fresh());
  }

  unpickleAccount(pickle: string): Result<Olm.Account, AccountFailure> {
    return this.unpickle(
      () => new (olmModule().Account)(),
      "account",
      pickle,
      MAX_ACCOUNT_PICKLE_BYTES,
    );
  }

  unpickleSession(pickle: string): Result<Olm.Session, AccountFailure> {
    return this.unpickle(
      () => new (olmModule().Session)(),
      "session",
      pickle,
      MAX_SESSION_PICKLE_BYTES,
    );
  }

  /** Overwrites the key; any later pickle or unpickle uses zeros and fails to open. */
  wipe(): void {
    this.bytes.fill(0);
  }

  /** libolm zeroes the key array it is handed after each call, so each call gets a copy. */
  private fresh(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private unpickle<T extends Olm.Account | Olm.Session>(
    make: () => T,
    what: string,
    pickle: string,
    limit: number,
  ): Result<T, AccountFailure> {
    if (typeof pickle !== "string" || olmByteLength(pickle, limit) > limit) {
      return accountFailure(
        "badPickle",
        `The ${what} pickle is not a string of at most ${limit} bytes.`,
      );
    }
    let target: T | undefined;
    try {
      target = make();
      target.unpickle(this.fresh(), pickle);
      return ok(target);
    } catch (error) {
      target?.free();
      // OLM.BAD_ACCOUNT_KEY: the wrong pickle key or a damaged pickle (its MAC fails).
      return accountFailure("badPickle", `The ${what} pickle: ${describeOlmError(error)}`);
    }
  }
}
