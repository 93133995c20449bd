/// <reference lib="dom" preserve="true" />
import { ok, type Result } from "../../result.js";
import type { StoreError } from "../keyWithholdingStore.js";

/** The Web Lock that makes one context the database's owner. */
export interface OwnershipLock {
  /** Lets the lock go (idempotent). */
  release(): void;
}

/** The lock's name: one per database name, so two accounts in two databases never contend. */
export const lockNameOf = (databaseName: string): string =>
  `matrix-key-withholding/indexeddb:${databaseName}`;

export interface LockWait {
  /** An integer number of ms, or `Infinity`; 0 asks once and does not queue. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

const busy = (detail: string): { readonly ok: false } & StoreError => ({
  ok: false,
  reason: "busy",
  detail,
});

const isAbort = (error: unknown): boolean =>
  typeof error === "object" && error !== null && Reflect.get(error, "name") === "AbortError";

/**
 * Requests the exclusive lock for `databaseName` and holds it until `release()`. The browser
 * frees it if the context dies (tab closed, crashed, navigated away), so a restart or a standby
 * tab gets it then. Waiting longer than `wait.timeoutMs`, or `wait.signal` aborting, is `busy`.
 * `onLost` runs if the lock is taken away while held (another context's `steal: true`).
 */
export const acquireOwnershipLock = (
  locks: LockManager,
  databaseName: string,
  wait: LockWait,
  onLost: () => void,
): Promise<Result<OwnershipLock, StoreError>> =>
  new Promise((resolve) => {
    const name = lockNameOf(databaseName);
    const held = `${name} is held by another tab or worker`;
    if (wait.signal?.aborted === true) {
      resolve(busy(`${held}: the wait was aborted`));
      return;
    }
    let release: () => void = () => {};
    const heldUntil = new Promise<void>((done) => {
      release = done;
    });
    const giveUp = new AbortController();
    let why = "";
    const stop = (reason: string) => {
      why = reason;
      giveUp.abort();
    };
    const timer = Number.isFinite(wait.timeoutMs)
      ? setTimeout(() => stop(`waited ${wait.timeoutMs} ms`), wait.timeoutMs)
      : undefined;
    const onAbort = () => stop("the wait was aborted");
    wait.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      wait.signal?.removeEventListener("abort", onAbort);
    };
    // ifAvailable and signal may not be combined: 0 asks once, anything else queues.
    const options: LockOptions =
      wait.timeoutMs === 0
        ? { mode: "exclusive", ifAvailable: true }
        : { mode: "exclusive", signal: giveUp.signal };
    let granted = false;
    let requested: Promise<unknown>;
    try {
      requested = locks.request(name, options, (lock) => {
        settle();
        if (lock === null) {
          resolve(busy(held));
          return undefined;
        }
        granted = true;
        resolve(ok({ release: () => release() }));
        return heldUntil;
      });
    } catch (error) {
      settle();
      resolve({ ok: false, reason: "ioError", detail: `the Web Lock ${name}: ${String(error)}` });
      return;
    }
    requested.then(
      () => {},
      (error: unknown) => {
        settle();
        if (granted) onLost();
        else if (isAbort(error)) resolve(busy(`${held}: ${why || "the wait was aborted"}`));
        else
          resolve({
            ok: false,
            reason: "ioError",
            detail: `the Web Lock ${name}: ${String(error)}`,
          });
      },
    );
  });
