import type Olm from "@matrix-org/olm";

/** libolm's module object: its classes (`Account`, `Session`, `Utility`, …) and `init`. */
export type LibolmModule = typeof Olm;

let loaded: LibolmModule | undefined;

/** Called by the loader once libolm's wasm is instantiated. */
export function setLoadedOlm(module: LibolmModule): void {
  loaded = module;
}

/**
 * libolm's classes. libolm is imported lazily (its import sets `window.Olm` in a browser), so
 * code that makes libolm objects reaches them through here, after `loadLibolm` succeeded. Every
 * caller runs inside a try that turns this throw into a typed failure.
 */
export function olmModule(): LibolmModule {
  if (loaded === undefined) throw new Error("libolm is not loaded: call loadLibolm() first.");
  return loaded;
}
