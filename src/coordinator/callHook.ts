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
  reportHookError(
    hooks,
    settled.fault === "threw" ? settled.thrown : new HookTimedOut(name, settled.detail),
    name,
  );
}

/**
 * Calls a hook whose outcome is not awaited (onPeerStateChange): a throw, or a promise it
 * returns that rejects later, still goes to onHookError and never becomes an unhandled rejection.
 */
export function callHookDetached(
  hooks: KeyWithholdingHooks,
  name: string,
  call: () => unknown,
): void {
  try {
    onRejection(call(), (reason) => reportHookError(hooks, reason, name));
  } catch (thrown) {
    reportHookError(hooks, thrown, name);
  }
}

/** Tells onHookError; whatever it throws, returns or rejects with goes nowhere. */
export function reportHookError(hooks: KeyWithholdingHooks, error: unknown, where: string): void {
  try {
    onRejection(hooks.onHookError?.(error, where), () => {});
  } catch {
    // A failing error reporter has nowhere left to report to.
  }
}

/** If `value` is a thenable, handles its rejection; reading `then` itself may throw. */
function onRejection(value: unknown, handle: (reason: unknown) => void): void {
  try {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return;
    const then: unknown = Reflect.get(value, "then");
    if (typeof then !== "function") return;
    Reflect.apply(then, value, [() => {}, handle]);
  } catch (thrown) {
    handle(thrown);
  }
}

/**
 * What onHookError receives for a hook that did not settle within `callTimeoutMs`. The library
 * has stopped waiting for it and carried on; whatever the hook does later is ignored. Test for it
 * with `instanceof` to tell a slow hook from one that threw.
 */
export class HookTimedOut extends Error {
  /**
   * Made by the library, not by clients. `hook` names the hook that timed out (as onHookError's
   * second argument does); `detail` becomes the message, e.g. "onPeerReachable did not settle
   * within 30000 ms".
   */
  constructor(
    readonly hook: string,
    detail: string,
  ) {
    super(detail);
    this.name = "HookTimedOut";
  }
}
