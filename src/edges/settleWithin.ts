import { describeThrown } from "./describeThrown.js";

/** How a call into the client's code ended, when it did not return. */
export type EdgeFault =
  | { readonly fault: "threw"; readonly detail: string; readonly thrown: unknown }
  | { readonly fault: "timedOut"; readonly detail: string };

export type Settled<T> =
  | { readonly settled: true; readonly value: T }
  | ({ readonly settled: false } & EdgeFault);

/**
 * Runs a call into the client's code (a transport, a hook) and always ends: with its value, with
 * what it threw or rejected with, or after `timeoutMs` if it never settles. The timer never keeps
 * the process alive.
 */
export async function settleWithin<T>(
  name: string,
  timeoutMs: number,
  call: () => T | PromiseLike<T>,
): Promise<Settled<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          settled: false,
          fault: "timedOut",
          detail: `${name} did not settle within ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    unref(timer);
  });
  const attempt = (async (): Promise<Settled<T>> => {
    try {
      return { settled: true, value: await call() };
    } catch (thrown) {
      return {
        settled: false,
        fault: "threw",
        detail: `${name} threw ${describeThrown(thrown)}`,
        thrown,
      };
    }
  })();
  try {
    return await Promise.race([attempt, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    const release: unknown = timer.unref;
    if (typeof release === "function") release.call(timer);
  }
}
