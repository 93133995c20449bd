import { settleWithin } from "../edges/settleWithin.js";
import type { KeyWithholdingHooks } from "./keyWithholdingTypes.js";

/**
 * Runs a client hook and waits for it at most `timeoutMs`. Whatever it returns is ignored;
 * whatever it throws or rejects with, or a hang, goes to onHookError and never further.
 */
export async function callHook(
  hooks: KeyWithholdingHooks,
  name: string,
  timeoutMs: number,
  call: () => unknown,
): Promise<void> {
  const settled = await settleWithin(name, timeoutMs, call);
  if (settled.settled) return;
  try {
    const error =
      settled.fault === "threw" ? settled.thrown : new HookTimedOut(name, settled.detail);
    hooks.onHookError?.(error, name);
  } catch {
    // A failing error reporter has nowhere left to report to.
  }
}

/** What onHookError receives for a hook that did not settle in time (it is no longer awaited). */
export class HookTimedOut extends Error {
  constructor(
    readonly hook: string,
    detail: string,
  ) {
    super(detail);
    this.name = "HookTimedOut";
  }
}
