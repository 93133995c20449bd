/**
 * `matrix-key-withholding/libolm`: `LibolmBackend`, the library's `OlmBackend` on libolm 3.2.15
 * (`@matrix-org/olm`, wasm). A separate entry point so that the root one, for clients with an
 * Olm implementation of their own, never loads libolm.
 *
 * Importing it has no side effects: libolm is imported and its wasm loaded on the first
 * `LibolmBackend.create`/`open` (or `loadLibolm`), from `wasmUrl` or `wasmBinary` if given.
 *
 * ```ts
 * const olm = await LibolmBackend.create({ userId, deviceId, wasmUrl: "/assets/olm.wasm" });
 * if (!olm.ok) throw olm.cause ?? new Error(`${olm.reason}: ${olm.detail}`);
 * ```
 *
 * @packageDocumentation
 */

export type { AccountFailure, AccountFailureReason } from "./olm/accountFailure.js";
export {
  DEFAULT_MAX_PEERS,
  DEFAULT_MAX_SESSIONS_PER_DEVICE,
  LibolmBackend,
  type LibolmBackendOptions,
  type LibolmOpenOptions,
} from "./olm/libolmBackend.js";
export {
  MAX_ACCOUNT_PICKLE_BYTES,
  MAX_PICKLE_KEY_BYTES,
  MAX_SESSION_PICKLE_BYTES,
  MIN_PICKLE_KEY_BYTES,
} from "./olm/olmPickles.js";
export { loadLibolm } from "./olm/olmRuntime.js";
export type { LibolmLoadOptions } from "./olm/wasmSource.js";
