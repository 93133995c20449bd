import { takesNodeBranch } from "./wasmSource.js";

/**
 * libolm 3.2.15 chooses its randomness when olm.js is evaluated: `window.crypto` if a global
 * `window` exists, else Node's `require("crypto")`, and it reads `window.crypto` again on every
 * draw. A Web Worker has neither (a bundler stubs Node's crypto), so each key libolm made there
 * would fail with "randomBytes is not a function". Where there is no `window` and no Node but
 * Web Crypto is present, this defines a minimal global `window` that holds only `crypto`,
 * non-enumerable, before libolm is imported, and leaves it: it must outlive the import.
 *
 * @returns whether it defined one (the host had no `window`).
 */
export function provideWorkerWindow(): boolean {
  if (Reflect.has(globalThis, "window") || takesNodeBranch()) return false;
  const crypto: unknown = Reflect.get(globalThis, "crypto");
  if (typeof crypto !== "object" || crypto === null) return false;
  if (typeof Reflect.get(crypto, "getRandomValues") !== "function") return false;
  Object.defineProperty(globalThis, "window", {
    // Not frozen: importing libolm sets `window.Olm` on it.
    value: { crypto },
    configurable: true,
    enumerable: false,
    writable: false,
  });
  return true;
}
