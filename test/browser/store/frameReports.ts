/*
 * Messages from frames, waited for by kind. A frame that fails reports `error`, which rejects
 * whatever the test is waiting for; a frame that says nothing fails the wait after `timeoutMs`.
 */
export class FrameReports<K extends string> {
  readonly #queued = new Map<K, string[]>();
  readonly #waiting = new Map<K, (json: string) => void>();
  #failure: ((error: Error) => void) | undefined;

  /** Files a report; `error` reports fail the current wait. */
  push(kind: K | "error", json: string): void {
    if (kind === "error") {
      this.#failure?.(new Error(`the frame failed: ${json}`));
      return;
    }
    const waiter = this.#waiting.get(kind);
    if (waiter !== undefined) {
      this.#waiting.delete(kind);
      waiter(json);
    } else this.#queued.set(kind, [...(this.#queued.get(kind) ?? []), json]);
  }

  /** The next report of `kind`, parsed. */
  next<T>(kind: K, timeoutMs = 30_000): Promise<T> {
    const queued = this.#queued.get(kind)?.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${kind} report in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#failure = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.#waiting.set(kind, (json) => {
        clearTimeout(timer);
        resolve(JSON.parse(json) as T);
      });
    });
  }
}
