import type { KeyWithholdingHooks } from "./keyWithholdingTypes.js";

/** Runs a client hook; whatever it throws or rejects with goes to onHookError, never further. */
export async function callHook(
  hooks: KeyWithholdingHooks,
  name: string,
  call: () => void | Promise<void>,
): Promise<void> {
  try {
    await call();
  } catch (error) {
    try {
      hooks.onHookError?.(error, name);
    } catch {
      // A failing error reporter has nowhere left to report to.
    }
  }
}
