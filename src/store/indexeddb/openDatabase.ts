/// <reference lib="dom" preserve="true" />
import { ok, type Result } from "../../result.js";
import type { StoreError } from "../keyWithholdingStore.js";
import { storeErrorOf } from "./indexedDbFailure.js";
import {
  createSchema,
  INDEXEDDB_SCHEMA_VERSION,
  isMarker,
  layoutProblem,
  MARKER_KEY,
} from "./indexedDbSchema.js";

type Opened = Result<IDBDatabase, StoreError>;

const refuse = (reason: StoreError["reason"], detail: string): { ok: false } & StoreError => ({
  ok: false,
  reason,
  detail,
});

const closeQuietly = (db: IDBDatabase): void => {
  try {
    db.close();
  } catch {
    // Already failing with the error that matters.
  }
};

/** How long an upgrade may wait for older connections that do not close (`blocked`). */
export interface BlockedWait {
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * `indexedDB.open(name, version)`, as a result. A new database gets the schema in its upgrade
 * transaction (all of it or nothing). An existing database of a lower version is not one this
 * library knows how to migrate (there is no older schema yet): the upgrade is aborted, the
 * database left as it was, and the answer is `corrupt`. If other connections block the upgrade
 * for longer than `blocked` allows, the answer is `busy`, and the upgrade is aborted whenever it
 * would have run.
 */
export const openAtVersion = (
  factory: IDBFactory,
  name: string,
  version: number,
  blocked: BlockedWait,
): Promise<Opened> =>
  new Promise<Opened>((resolve) => {
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(name, version);
    } catch (error) {
      resolve({ ok: false, ...storeErrorOf(error, "open") });
      return;
    }
    let answered = false;
    let refusal: ({ ok: false } & StoreError) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopWaiting = () => {
      clearTimeout(timer);
      blocked.signal?.removeEventListener("abort", giveUp);
    };
    const answer = (opened: Opened) => {
      stopWaiting();
      if (answered) {
        if (opened.ok) closeQuietly(opened.value);
        return;
      }
      answered = true;
      resolve(opened);
    };
    function giveUp() {
      answer(refuse("busy", "open: an older connection to the database blocks its upgrade"));
    }
    request.onblocked = () => {
      if (blocked.signal?.aborted === true || blocked.timeoutMs === 0) giveUp();
      else {
        if (Number.isFinite(blocked.timeoutMs)) timer = setTimeout(giveUp, blocked.timeoutMs);
        blocked.signal?.addEventListener("abort", giveUp, { once: true });
      }
    };
    request.onupgradeneeded = (event) => {
      const upgrade = request.transaction;
      if (upgrade === null) return;
      if (answered) {
        upgrade.abort();
        return;
      }
      // No longer blocked: however long the upgrade takes, it is not another owner's wait.
      stopWaiting();
      if (event.oldVersion !== 0) {
        refusal = refuse(
          "corrupt",
          `open: version ${event.oldVersion} is not a schema this library wrote`,
        );
        upgrade.abort();
        return;
      }
      try {
        createSchema(request.result, upgrade);
      } catch (error) {
        refusal = { ok: false, ...storeErrorOf(error, "open: creating the schema") };
        upgrade.abort();
      }
    };
    request.onsuccess = () => {
      // Until the store takes the connection over: never block another tab's upgrade.
      request.result.onversionchange = () => closeQuietly(request.result);
      answer(ok(request.result));
    };
    request.onerror = (event) => {
      // Handled here: not reported as an error of the page.
      event.preventDefault();
      answer(refusal ?? { ok: false, ...storeErrorOf(request.error, "open") });
    };
  });

/** Reads the marker record of a database that is already open, or says why it cannot. */
const readMarker = (db: IDBDatabase): Promise<Result<unknown, StoreError>> =>
  new Promise((resolve) => {
    if (!db.objectStoreNames.contains("meta")) {
      resolve(refuse("corrupt", "not a database of this library (no meta store)"));
      return;
    }
    let request: IDBRequest;
    try {
      request = db.transaction("meta", "readonly").objectStore("meta").get(MARKER_KEY);
    } catch (error) {
      resolve({ ok: false, ...storeErrorOf(error, "reading the marker") });
      return;
    }
    request.onsuccess = () => resolve(ok(request.result));
    request.onerror = (event) => {
      event.preventDefault();
      resolve({ ok: false, ...storeErrorOf(request.error, "reading the marker") });
    };
  });

/**
 * Opening at our version raised VersionError: the database has a higher one. Opened at its own
 * version (no upgrade, nothing written) to tell a newer schema of ours from someone else's.
 */
const classifyNewer = (factory: IDBFactory, name: string): Promise<StoreError> =>
  new Promise((resolve) => {
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(name);
    } catch (error) {
      resolve(storeErrorOf(error, "open"));
      return;
    }
    // Deleted in the meantime: the open would create an empty database. Abort that instead.
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onerror = (event) => {
      event.preventDefault();
      resolve(storeErrorOf(request.error, "open"));
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();
      const version = db.version;
      void readMarker(db).then((marker) => {
        closeQuietly(db);
        if (!marker.ok) resolve(marker);
        else if (!isMarker(marker.value)) {
          resolve({
            reason: "corrupt",
            detail: `not a database of this library (version ${version}, no marker)`,
          });
        } else {
          resolve({
            reason: "newerSchema",
            detail: `schema version ${marker.value.schemaVersion} (database version ${version}); this library reads version ${INDEXEDDB_SCHEMA_VERSION}`,
          });
        }
      });
    };
  });

/** What is wrong with an open database of our version, or undefined when it is ours. */
const checkOurs = async (db: IDBDatabase): Promise<StoreError | undefined> => {
  if (!db.objectStoreNames.contains("meta")) {
    return { reason: "corrupt", detail: "not a database of this library (no meta store)" };
  }
  let tx: IDBTransaction;
  try {
    tx = db.transaction(Array.from(db.objectStoreNames), "readonly");
  } catch (error) {
    return storeErrorOf(error, "checking the schema");
  }
  const problem = layoutProblem(db, tx);
  const marker = await readMarker(db);
  if (!marker.ok) return marker;
  if (!isMarker(marker.value)) {
    return { reason: "corrupt", detail: "not a database of this library (no marker record)" };
  }
  const version = marker.value.schemaVersion;
  if (version > INDEXEDDB_SCHEMA_VERSION) {
    return {
      reason: "newerSchema",
      detail: `schema version ${version}; this library reads version ${INDEXEDDB_SCHEMA_VERSION}`,
    };
  }
  if (version !== INDEXEDDB_SCHEMA_VERSION) {
    return { reason: "corrupt", detail: `unknown schema version ${version}` };
  }
  if (problem !== undefined) return { reason: "corrupt", detail: problem };
  return undefined;
};

/**
 * Opens the database `name` of this library, creating it if it does not exist. A database of a
 * newer schema is `newerSchema`, anyone else's (or a damaged one: stores missing, no marker) is
 * `corrupt`; either way it is left exactly as it was. Never a silent reset.
 */
export const openDatabase = async (
  factory: IDBFactory,
  name: string,
  blocked: BlockedWait,
): Promise<Opened> => {
  const opened = await openAtVersion(factory, name, INDEXEDDB_SCHEMA_VERSION, blocked);
  if (!opened.ok) {
    return opened.reason === "newerSchema"
      ? { ok: false, ...(await classifyNewer(factory, name)) }
      : opened;
  }
  const db = opened.value;
  try {
    const problem = await checkOurs(db);
    if (problem === undefined) return opened;
    closeQuietly(db);
    return { ok: false, ...problem };
  } catch (error) {
    closeQuietly(db);
    return { ok: false, ...storeErrorOf(error, "checking the schema") };
  }
};
