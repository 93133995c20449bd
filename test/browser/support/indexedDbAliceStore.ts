import type { AliceStoreSource } from "../../../examples/demo/noOlmStoryCore.js";
import { openIndexedDbStore } from "../../../src/indexeddb.js";

/** The demo story's alice keeping her state in the IndexedDB database `name` (opened again at her restart). */
export const indexedDbAliceStore = (name: string): AliceStoreSource => ({
  open: async () => {
    const opened = await openIndexedDbStore({ name });
    if (!opened.ok) throw new Error(`IndexedDB: ${opened.reason}: ${opened.detail}`);
    return opened.value;
  },
  describe: { article: "an", noun: "IndexedDB database" },
  location: `the IndexedDB database ${name}`,
});
