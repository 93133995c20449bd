import { expect, it } from "vitest";
import type { WorkerReport } from "./storyWorker.js";

/*
 * The library in a dedicated Web Worker (no DOM): libolm loaded from its ?url, the coordinator,
 * and alice's IndexedDB store with its Web Lock, through the whole demo story and its restart.
 */

const EXPECTED_CHECKS = 17;

function runInWorker(database: string): Promise<WorkerReport> {
  const worker = new Worker(new URL("./storyWorker.ts", import.meta.url), { type: "module" });
  return new Promise<WorkerReport>((resolve) => {
    worker.onmessage = (event: MessageEvent<WorkerReport>) => resolve(event.data);
    worker.onerror = (event) => resolve({ kind: "crashed", detail: event.message });
    worker.postMessage({ database });
  }).finally(() => worker.terminate());
}

it("runs the demo story in a Web Worker, alice's state in IndexedDB", async () => {
  const database = `mkw-worker-${crypto.randomUUID()}`;
  try {
    const report = await runInWorker(database);
    if (report.kind === "crashed") throw new Error(`the worker crashed: ${report.detail}`);
    expect(report.failed, `failed checks: ${report.failed.join("; ")}`).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      checks: EXPECTED_CHECKS,
      hasDocument: false,
      restarted: true,
    });
  } finally {
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(database);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
  }
});
