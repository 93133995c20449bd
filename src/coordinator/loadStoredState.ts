import { describeThrown } from "../edges/describeThrown.js";
import { settleWithin } from "../edges/settleWithin.js";
import { ok, type Result } from "../result.js";
import type { KeyWithholdingStore, StoredReceivedWithheld } from "../store/keyWithholdingStore.js";
import {
  type RestoredPeer,
  type RestoredRequest,
  readPeerRecord,
  readReceivedRecord,
  readRequestRecord,
  readSessionNoticeKey,
} from "./storedRecords.js";

/** What a coordinator opened over a store starts from, every record checked. */
export interface LoadedState {
  readonly peers: readonly RestoredPeer[];
  readonly requests: readonly RestoredRequest[];
  readonly sessionNotices: readonly string[];
  readonly received: readonly StoredReceivedWithheld[];
  readonly protocolTime: number | undefined;
}

/** The store could not be read at all: nothing is opened over a store we cannot see into. */
export interface OpenRejection {
  readonly reason: "storeFailed";
  readonly detail: string;
}

/** Records refused are reported one by one, up to this many, then counted. */
const MAX_REPORTED = 20;

/**
 * Reads the store once. A store that throws, rejects, hangs or answers with something that is
 * not a stored state refuses the open (typed); a single record that cannot be read is reported
 * and left out, the rest restored.
 */
export async function loadStoredState(
  store: KeyWithholdingStore,
  timeoutMs: number,
  report: (error: Error) => void,
): Promise<Result<LoadedState, OpenRejection>> {
  const settled = await settleWithin("store.load", timeoutMs, () => store.load());
  if (!settled.settled) return { ok: false, reason: "storeFailed", detail: settled.detail };
  try {
    return readState(settled.value, report);
  } catch (thrown) {
    const detail = `reading the stored state threw ${describeThrown(thrown, 120)}`;
    return { ok: false, reason: "storeFailed", detail };
  }
}

function readState(
  input: unknown,
  report: (error: Error) => void,
): Result<LoadedState, OpenRejection> {
  if (typeof input !== "object" || input === null) {
    return { ok: false, reason: "storeFailed", detail: "store.load answered with no state" };
  }
  const field = (name: string): unknown => Reflect.get(input, name);
  const lists = ["peers", "requests", "sessionNotices", "received"].map((name) => field(name));
  if (!lists.every(Array.isArray)) {
    const detail = "store.load answered with a state of the wrong shape";
    return { ok: false, reason: "storeFailed", detail };
  }
  const [peerRows, requestRows, noticeRows, receivedRows] = lists as unknown[][];
  let refused = 0;
  const refuse = (what: string, detail: string): void => {
    refused += 1;
    if (refused <= MAX_REPORTED) report(new Error(`stored ${what} refused: ${detail}`));
  };
  // Each row on its own: one that cannot even be looked at (a revoked Proxy) is refused alone.
  const readRows = <T>(
    rows: readonly unknown[],
    what: string,
    read: (row: unknown) => Result<T, { readonly detail: string }>,
  ): T[] => {
    const kept: T[] = [];
    for (const row of rows) {
      let result: Result<T, { readonly detail: string }>;
      try {
        result = read(row);
      } catch (thrown) {
        result = { ok: false, detail: `reading it threw ${describeThrown(thrown, 80)}` };
      }
      if (result.ok) kept.push(result.value);
      else refuse(what, result.detail);
    }
    return kept;
  };
  const peers = readRows(peerRows ?? [], "peer", (row) => {
    const [key, record] = Array.isArray(row) ? (row as unknown[]) : [undefined, undefined];
    return readPeerRecord(key, record);
  });
  const requests = readRows(requestRows ?? [], "request", readRequestRecord);
  const sessionNotices = readRows(noticeRows ?? [], "per-session notice key", readSessionNoticeKey);
  const received = readRows(receivedRows ?? [], "received notice", readReceivedRecord);
  if (refused > MAX_REPORTED) {
    report(new Error(`${refused} stored records refused in all (${MAX_REPORTED} reported)`));
  }
  const time = field("protocolTime");
  const protocolTime = typeof time === "number" && Number.isFinite(time) ? time : undefined;
  return ok({ peers, requests, sessionNotices, received, protocolTime });
}
