import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  createKeyWithholding,
  type DeviceDirectory,
  DeviceList,
  InMemoryStore,
  type KeyWithholding,
  type KeyWithholdingStore,
  type OlmBackend,
  openKeyWithholding,
  type Transport,
} from "../src/index.js";
import { openSqliteStore } from "../src/sqlite.js";
import { TimedStore } from "./doubles/timedStore.js";

/** Where a bench coordinator keeps its state. */
export type StoreKind = "none" | "memory" | "sqlite";

export interface BenchCoordinator {
  readonly kw: KeyWithholding;
  /** Present for "sqlite": times each commit. */
  readonly timed: TimedStore | undefined;
  /** What the library reported through onHookError (a bench run must have none). */
  readonly hookErrors: string[];
  /** Closes the store and removes its temp folder; throws if the library reported errors. */
  close(): Promise<void>;
}

export interface CoordinatorParts {
  readonly olm: OlmBackend;
  readonly transport: Transport;
  readonly devices?: DeviceDirectory;
}

/**
 * A coordinator through the public API only: `createKeyWithholding` without a store,
 * `openKeyWithholding` over an `InMemoryStore` or over `openSqliteStore` on a temp file.
 */
export async function openBenchCoordinator(
  kind: StoreKind,
  parts: CoordinatorParts,
): Promise<BenchCoordinator> {
  const hookErrors: string[] = [];
  const options = {
    olm: parts.olm,
    transport: parts.transport,
    devices: parts.devices ?? new DeviceList(),
    hooks: {
      onHookError: (error: unknown, hook: string) => {
        hookErrors.push(`${hook}: ${String(error)}`);
      },
    },
  };
  if (kind === "none") {
    const created = createKeyWithholding(options);
    if (!created.ok) throw new Error(`createKeyWithholding: ${created.detail}`);
    const kw = created.value;
    return { kw, timed: undefined, hookErrors, close: async () => noErrors(hookErrors) };
  }
  let folder: string | undefined;
  let store: KeyWithholdingStore;
  let closeStore = (): void => {};
  let timed: TimedStore | undefined;
  if (kind === "memory") store = new InMemoryStore();
  else {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "kw-bench-"));
    const opened = openSqliteStore({ path: path.join(folder, "store.db") });
    if (!opened.ok) throw new Error(`openSqliteStore: ${opened.reason}: ${opened.detail}`);
    const sqlite = opened.value;
    closeStore = () => sqlite.close();
    timed = new TimedStore(sqlite);
    store = timed;
  }
  const opened = await openKeyWithholding({ ...options, store });
  if (!opened.ok) throw new Error(`openKeyWithholding: ${opened.detail}`);
  const kw = opened.value;
  return {
    kw,
    timed,
    hookErrors,
    close: async () => {
      await kw.stop();
      closeStore();
      if (folder !== undefined) fs.rmSync(folder, { recursive: true, force: true });
      noErrors(hookErrors);
    },
  };
}

/** A bench whose store or hooks failed measured the wrong thing: stop loudly. */
function noErrors(hookErrors: readonly string[]): void {
  if (hookErrors.length > 0) {
    throw new Error(`bench: the library reported errors: ${hookErrors.slice(0, 3).join("; ")}`);
  }
}
