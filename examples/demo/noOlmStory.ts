import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/sqlite.js";
import { specHomeserver } from "../../test/support/specHomeserver.js";
import {
  type AliceStoreSource,
  runNoOlmStoryWith,
  type StoryOptions,
  type StoryResult,
} from "./noOlmStoryCore.js";

/*
 * The demo story in Node (noOlmStoryCore.ts tells it): by default over the spec-checking
 * homeserver double, with alice's state in a SQLite file in a fresh temporary folder.
 */

export type {
  AliceStoreSource,
  Check,
  StoreHandle,
  StoryOptions,
  StoryResult,
} from "./noOlmStoryCore.js";

/** Runs the story; what `options` leaves out is Node's: SQLite for alice, the fs-loaded spec. */
export async function runNoOlmStory(
  print: (line: string) => void,
  options: Partial<StoryOptions> = {},
): Promise<StoryResult> {
  const homeserver = options.homeserver ?? specHomeserver();
  if (options.aliceStore !== undefined) {
    return runNoOlmStoryWith(print, { ...options, homeserver, aliceStore: options.aliceStore });
  }
  const folder = mkdtempSync(join(tmpdir(), "mkw-demo-"));
  try {
    const aliceStore = sqliteFile(join(folder, "alice.db"));
    return await runNoOlmStoryWith(print, { ...options, homeserver, aliceStore });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function sqliteFile(path: string): AliceStoreSource {
  return {
    open: async () => {
      const opened = openSqliteStore({ path });
      if (!opened.ok) throw new Error(`SQLite: ${opened.reason}: ${opened.detail}`);
      return opened.value;
    },
    describe: { article: "a", noun: "SQLite file" },
    location: path,
  };
}
