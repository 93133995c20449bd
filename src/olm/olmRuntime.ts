import { describeThrown } from "../edges/describeThrown.js";
import { ok, type Result } from "../result.js";
import type { AccountFailure } from "./accountFailure.js";
import { keepHostGlobals } from "./hostGlobals.js";
import { type LibolmModule, setLoadedOlm } from "./olmModule.js";
import { type LibolmLoadOptions, unavailable, wasmBytes } from "./wasmSource.js";
import { provideWorkerWindow } from "./workerWindow.js";

/** What a load settles to; internal, `loadLibolm` spells it out for the docs. */
type Outcome = Result<void, AccountFailure>;

/**
 * `idle` until a load succeeds or libolm's own init fails; a failure before libolm's init (a
 * wrong wasm location, a fetch that failed) goes back to `idle`, so the next call tries again.
 */
let state:
  | { readonly kind: "idle" }
  | { readonly kind: "loading"; readonly attempt: Promise<Outcome> }
  | { readonly kind: "loaded" }
  | { readonly kind: "libolmFailed"; readonly failure: Outcome } = { kind: "idle" };

/**
 * Loads libolm (3.2.15) and its wasm module, once per realm; never throws. Calls while a load
 * is in flight share it. After a failure to find or fetch the wasm, a later call (with another
 * `wasmUrl`, say) tries again. libolm caches a failure of its own `init` (a valid module that
 * does not instantiate) until the page or process is reloaded; that failure is then returned
 * each time, saying so.
 *
 * A host that initialised libolm itself keeps its instance: libolm returns its first `init`.
 *
 * @returns `ok` once libolm is loaded; otherwise an {@link AccountFailure} with reason
 * `olmUnavailable`, its `detail` and `cause` saying what failed.
 */
export async function loadLibolm(
  options: LibolmLoadOptions = {},
): Promise<Result<void, AccountFailure>> {
  switch (state.kind) {
    case "loaded":
      return ok(undefined);
    case "libolmFailed":
      return state.failure;
    case "loading":
      return state.attempt;
    case "idle": {
      const attempt = attemptLoad(options);
      state = { kind: "loading", attempt };
      return attempt;
    }
  }
}

async function attemptLoad(options: LibolmLoadOptions): Promise<Outcome> {
  const bytes = await wasmBytes(options);
  if (!bytes.ok) return settle({ kind: "idle" }, bytes);
  const module = await importLibolm();
  if (!module.ok) return settle({ kind: "idle" }, module);
  const errors: string[] = [];
  try {
    await initWithHostKept(module.value, {
      // libolm prints its abort reason with console.warn; it belongs in our failure instead.
      printErr: (text: unknown) => errors.push(String(text)),
      ...(bytes.value === undefined ? {} : { wasmBinary: bytes.value }),
    });
  } catch (thrown) {
    const printed = errors.length > 0 ? ` (libolm printed: ${errors.join(" | ")})` : "";
    const failure = unavailable(
      `libolm's init failed: ${describeThrown(thrown)}${printed}. libolm keeps this failure until the page or process is reloaded.`,
      thrown,
    );
    return settle({ kind: "libolmFailed", failure }, failure);
  }
  setLoadedOlm(module.value);
  return settle({ kind: "loaded" }, ok(undefined));
}

function settle(next: typeof state, outcome: Outcome): Outcome {
  state = next;
  return outcome;
}

/** Imported on first load, not with this module: its evaluation sets `window.Olm`. */
async function importLibolm(): Promise<Result<LibolmModule, AccountFailure>> {
  const restore = keepHostGlobals(["Olm"]);
  // In a Web Worker libolm would otherwise find no randomness at all.
  provideWorkerWindow();
  try {
    return ok((await import("@matrix-org/olm")).default);
  } catch (error) {
    return unavailable(`Importing @matrix-org/olm: ${describeThrown(error)}`, error);
  } finally {
    restore();
  }
}

/**
 * `Olm.init` reads its options from the undeclared global `OLM_OPTIONS` and adds its process
 * listeners synchronously, so the host's globals are put back as soon as it returns.
 */
function initWithHostKept(module: LibolmModule, options: object): Promise<void> {
  const restore = keepHostGlobals(["OLM_OPTIONS"]);
  try {
    // Defined first: libolm assigns it without a declaration, a ReferenceError in strict code.
    Reflect.set(globalThis, "OLM_OPTIONS", undefined);
    return module.init(options);
  } finally {
    restore();
  }
}
