import { describeThrown } from "../edges/describeThrown.js";
import type { KeyWithholdingHooks } from "./keyWithholdingTypes.js";

/**
 * A client's logger (console, pino, winston, … all fit), given as `KeyWithholdingOptions.logger`.
 * Each method gets a fixed message and, optionally, structured fields (device ids only at debug
 * level). Whatever a method returns is ignored and never awaited; a throw or rejection from it
 * is swallowed, so a failing logger cannot break the library.
 */
export interface KeyWithholdingLogger {
  /** Who a request went to (user and device ids): the only level that names devices. */
  debug(message: string, fields?: Record<string, unknown>): unknown;
  /** Normal operation: a request sent (event type, txnId, message count; no recipients). */
  info(message: string, fields?: Record<string, unknown>): unknown;
  /** A failure the library recovers from by itself: a request to retry, a hook that threw. */
  warn(message: string, fields?: Record<string, unknown>): unknown;
  /** Durability is at risk: a store commit failed (it is retried), a stored record was refused. */
  error(message: string, fields?: Record<string, unknown>): unknown;
}

/**
 * The lowest level passed to the logger (`KeyWithholdingOptions.logLevel`, default `"info"`):
 * each level includes the ones after it, in the order debug, info, warn, error; `"silent"`
 * passes nothing.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
type Level = Exclude<LogLevel, "silent">;

/** The library's side of logging: filtered by level, and never throws, rejects or waits. */
export interface Log {
  enabled(level: Level): boolean;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** No logger: nothing is logged (the default, so tests stay quiet). */
export function makeLog(logger: KeyWithholdingLogger | undefined, level: LogLevel): Log {
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (at: Level): boolean =>
    logger !== undefined && LOG_LEVELS.indexOf(at) >= threshold;
  const at =
    (name: Level) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (logger === undefined || !enabled(name)) return;
      // The logger is the client's code: a throw, a getter that throws, a rejection or a
      // promise that never settles must not reach the coordinator (it is never awaited).
      try {
        const method: unknown = Reflect.get(logger, name);
        if (typeof method !== "function") return;
        ignoreRejection(
          Reflect.apply(method, logger, fields === undefined ? [message] : [message, fields]),
        );
      } catch {
        // A failing logger has nowhere to report to.
      }
    };
  return { enabled, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function ignoreRejection(value: unknown): void {
  try {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return;
    const then: unknown = Reflect.get(value, "then");
    if (typeof then === "function") Reflect.apply(then, value, [() => {}, () => {}]);
  } catch {
    // Reading `then` threw: nothing to wait for.
  }
}

/** Errors logged where they happen (at error level), so the fallback does not log them twice. */
const LOGGED_AT_SOURCE = new Set(["store.commit"]);

/**
 * Hooks whose `onHookError`, when the client gave none, makes absorbed errors visible: to the
 * logger (warn; store errors at error), or, with no logger either, to `console.warn` once per
 * hook name for this coordinator, with a hint, so a loop of failures cannot flood the console.
 */
export function withHookErrorFallback(
  hooks: KeyWithholdingHooks,
  log: Log,
  hasLogger: boolean,
): KeyWithholdingHooks {
  if (Reflect.get(hooks, "onHookError") !== undefined) return hooks;
  const warned = new Set<string>();
  const onHookError = (error: unknown, hook: string): void => {
    const fields = { hook, error: describeThrown(error) };
    if (hasLogger) {
      if (LOGGED_AT_SOURCE.has(hook)) return;
      if (hook.startsWith("store.")) log.error("a stored record was refused", fields);
      else log.warn("a hook failed; the library carried on", fields);
      return;
    }
    if (warned.has(hook)) return;
    warned.add(hook);
    try {
      globalThis.console?.warn(
        `matrix-key-withholding: ${hook} failed (${fields.error}); the library carried on. ` +
          "Further failures here are not shown: pass hooks.onHookError or a logger to see them.",
      );
    } catch {
      // No usable console.
    }
  };
  // Inherits from the client's object rather than copying it: hooks are read when called, as
  // before, and keep their `this`.
  const wrapped: KeyWithholdingHooks = Object.create(hooks);
  Object.defineProperty(wrapped, "onHookError", { value: onHookError });
  return wrapped;
}
