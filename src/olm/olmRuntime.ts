import type { EventEmitter } from "node:events";
import Olm from "@matrix-org/olm";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { describeOlmError } from "./olmFailure.js";

const PROCESS_EVENTS = ["uncaughtException", "unhandledRejection"] as const;

/**
 * Loads libolm's wasm module. Safe to call any number of times: libolm keeps the first call's
 * promise, so a host that initialised libolm itself (with its own options) is not disturbed.
 *
 * libolm's emscripten loader adds process-wide `uncaughtException` and `unhandledRejection`
 * listeners that rethrow, which would turn a host's survivable unhandled rejection into a
 * crash. A library must not change its host's process policy, so those listeners are removed.
 */
export async function initOlm(): Promise<Result<void, AccountFailure>> {
  // Seen as a plain emitter: the library also runs where there is no `process` at all.
  const hostProcess = globalThis.process as EventEmitter | undefined;
  const before = PROCESS_EVENTS.map((name) => new Set(hostProcess?.listeners(name) ?? []));
  try {
    await Olm.init();
    return ok(undefined);
  } catch (error) {
    return accountFailure("olmUnavailable", describeOlmError(error));
  } finally {
    PROCESS_EVENTS.forEach((name, i) => {
      for (const listener of hostProcess?.listeners(name) ?? []) {
        if (!before[i]?.has(listener)) hostProcess?.removeListener(name, listener as () => void);
      }
    });
  }
}
