import wasmUrl from "@matrix-org/olm/olm.wasm?url";
import { runNoOlmStoryWith } from "../../../examples/demo/noOlmStoryCore.js";
import { specHomeserver } from "../support/browserSpecHomeserver.js";
import { indexedDbAliceStore } from "../support/indexedDbAliceStore.js";

/*
 * A dedicated Web Worker running the demo story: libolm, the coordinator and alice's IndexedDB
 * store off the page's thread, as docs/browser.md recommends. It posts one WorkerReport.
 */

export type WorkerReport =
  | {
      readonly kind: "finished";
      readonly ok: boolean;
      readonly checks: number;
      readonly failed: readonly string[];
      readonly hasDocument: boolean;
      readonly restarted: boolean;
    }
  | { readonly kind: "crashed"; readonly detail: string };

self.onmessage = async (message: MessageEvent<{ readonly database: string }>) => {
  let report: WorkerReport;
  try {
    const result = await runNoOlmStoryWith(() => {}, {
      homeserver: specHomeserver(),
      aliceStore: indexedDbAliceStore(message.data.database),
      libolm: { wasmUrl },
    });
    report = {
      kind: "finished",
      ok: result.ok,
      checks: result.checks.length,
      failed: result.checks.filter((c) => !c.ok).map((c) => c.what),
      hasDocument: typeof Reflect.get(globalThis, "document") !== "undefined",
      restarted: result.trace.some(
        (entry) => entry.kind === "narration" && entry.text.includes("starts again"),
      ),
    };
  } catch (error) {
    report = {
      kind: "crashed",
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  self.postMessage(report);
};
