import wasmUrl from "@matrix-org/olm/olm.wasm?url";
import { describe, expect, it } from "vitest";
import { runNoOlmStoryWith } from "../../../examples/demo/noOlmStoryCore.js";
import { SPEC_SCHEMAS } from "../../spec/specSchemaSet.js";
import { specHomeserver } from "../support/browserSpecHomeserver.js";
import { SPEC_FILES, validateAgainstSpec } from "../support/browserSpecSchemas.js";
import { indexedDbAliceStore } from "../support/indexedDbAliceStore.js";

/*
 * `npm run demo`'s whole story in Chromium: real libolm (its wasm from a Vite ?url import), the
 * homeserver double checking everything against spec/, alice restarting over her IndexedDB.
 */

// Every check() of the story (examples/demo/noOlmStoryCore.ts), so none can silently go missing.
const EXPECTED_CHECKS = 17;

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(`deleting ${name}: a connection is still open`));
  });
}

const databaseNames = async (): Promise<string[]> =>
  (await indexedDB.databases()).flatMap((d) => (d.name === undefined ? [] : [d.name]));

describe("the demo story in Chromium", () => {
  it("checks what crosses the homeserver against the spec files Vite loaded", () => {
    expect(Object.keys(SPEC_FILES)).toEqual(
      expect.arrayContaining(["api/keys.yaml", "event-schemas/m.room_key.withheld.yaml"]),
    );
    const notice = { algorithm: "m.megolm.v1.aes-sha2", sender_key: "a".repeat(43) };
    expect(
      validateAgainstSpec(SPEC_SCHEMAS.withheldContent, { ...notice, code: "m.no_olm" }),
    ).toEqual([]);
    expect(validateAgainstSpec(SPEC_SCHEMAS.withheldContent, notice).join("\n")).toMatch(/code/);
  });

  it("runs every turn as the spec says, alice restarting over her IndexedDB", async () => {
    const name = `mkw-demo-${crypto.randomUUID()}`;
    const run = async () => {
      try {
        const result = await runNoOlmStoryWith(() => {}, {
          homeserver: specHomeserver(),
          aliceStore: indexedDbAliceStore(name),
          libolm: { wasmUrl },
        });
        return { result, databases: await databaseNames() };
      } finally {
        await deleteDatabase(name);
      }
    };
    const { result, databases } = await run();
    expect(databases).toContain(name);
    expect(await databaseNames()).not.toContain(name);

    const failed = result.checks.filter((c) => !c.ok).map((c) => c.what);
    expect(failed, `failed checks: ${failed.join("; ")}`).toEqual([]);
    expect(result.checks).toHaveLength(EXPECTED_CHECKS);
    expect(result.ok).toBe(true);

    // The restart is in the trace, and the m.no_olm alice had stored before it went out after
    // it with the same txnId (txnIds are numbered in order of first use).
    const restartAt = result.trace.findIndex(
      (e) => e.kind === "narration" && e.text.startsWith("alice's app starts again"),
    );
    expect(result.trace[restartAt]).toMatchObject({
      text: "alice's app starts again: it opens the same IndexedDB database.",
    });
    const noOlmTxns = (from: number, to: number) =>
      result.trace
        .slice(from, to)
        .flatMap((e) =>
          e.kind === "sendToDevice" &&
          e.eventType === "m.room_key.withheld" &&
          e.from === "alice/ALICEPHONE"
            ? [e.txnId]
            : [],
        );
    const before = noOlmTxns(0, restartAt);
    const after = noOlmTxns(restartAt, result.trace.length);
    expect(before.at(-1)).toBeDefined();
    expect(after[0]).toBe(before.at(-1));
  });
});
