import { describe, expect, it } from "vitest";
import { INDEXEDDB_SCHEMA_VERSION, openIndexedDbStore } from "../../src/indexeddb.js";

// The IndexedDB store's behaviour is tested in Chromium (test/browser/store/). In Node the entry
// must import without side effects and refuse as data, never throw or reject.
describe("matrix-key-withholding/indexeddb in Node", () => {
  it("refuses to open without IndexedDB (ioError), and checks options first", async () => {
    expect(INDEXEDDB_SCHEMA_VERSION).toBe(1);
    const opened = await openIndexedDbStore({ name: "kw" });
    expect(opened.ok ? "opened" : [opened.reason, opened.detail]).toEqual([
      "ioError",
      "open: IndexedDB is not available here",
    ]);
    const bad = await openIndexedDbStore({ name: "" });
    expect(bad.ok ? "opened" : bad.reason).toBe("invalidArgument");
  });

  it("turns a factory that throws into a typed error, and never rejects", async () => {
    const throwing = {
      open: () => {
        throw new DOMException("denied", "SecurityError");
      },
      deleteDatabase: () => {
        throw new Error("unused");
      },
    } as unknown as IDBFactory;
    const opened = await openIndexedDbStore({ name: "kw", lock: "none", indexedDB: throwing });
    expect(opened.ok ? "opened" : [opened.reason, opened.detail]).toEqual([
      "ioError",
      "open: SecurityError: denied",
    ]);
  });
});
