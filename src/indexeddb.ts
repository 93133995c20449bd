/// <reference lib="dom" preserve="true" />
/**
 * `matrix-key-withholding/indexeddb`: the library's store on IndexedDB, for browsers and Web
 * Workers. Raw IndexedDB and Web Locks, no dependency, no Node built-in.
 *
 * ```ts
 * const opened = await openIndexedDbStore({ name: "key-withholding:@alice:example.org" });
 * if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`); // busy: another tab has it
 * const store = opened.value; // a KeyWithholdingStore; store.close() when done
 * ```
 *
 * @packageDocumentation
 */

export type { IndexedDbStoreOptions } from "./store/indexeddb/indexedDbOptions.js";
export { INDEXEDDB_SCHEMA_VERSION } from "./store/indexeddb/indexedDbSchema.js";
export type { IndexedDbStore } from "./store/indexeddb/indexedDbStoreInterface.js";
export { openIndexedDbStore } from "./store/indexeddb/openIndexedDbStore.js";
