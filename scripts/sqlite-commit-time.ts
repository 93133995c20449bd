/*
 * How long the SQLite store takes to commit one share outcome for 100,000 devices: 100,000 peer
 * snapshots (10% with a notice pending, the rest established) and 400 to-device requests of 250
 * messages, into a fresh database, five times. Prints the median as one line. Run:
 * npm run sqlite-commit-time [-- --synchronous=normal] (the store itself always uses FULL).
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { JsonObject } from "../src/events/json.js";
import {
  emptyChanges,
  type StoreChanges,
  type StoredRequest,
} from "../src/store/keyWithholdingStore.js";
import { openSqliteStoreWith } from "../src/store/sqlite/openSqliteStore.js";

const PEERS = 100_000;
const REQUESTS = 400;
const MESSAGES_PER_REQUEST = 250;
const RUNS = 5;
const synchronous = process.argv.includes("--synchronous=normal") ? "NORMAL" : "FULL";

const pending: JsonObject = {
  value: { olm: { unreachable: "noticePending" }, reply: "idle" },
  context: {
    noticeId: 1,
    unreachableSince: 1_700_000_000_000,
    lastNoticeReceivedAt: null,
    replyId: 0,
    lastReplyAt: null,
    claimFailures: 0,
    claimFailedAt: null,
  },
};
const established: JsonObject = {
  value: { olm: "established", reply: "idle" },
  context: {
    noticeId: 0,
    unreachableSince: null,
    lastNoticeReceivedAt: null,
    replyId: 0,
    lastReplyAt: null,
    claimFailures: 0,
    claimFailedAt: null,
  },
};

const userOf = (i: number): string => `@user${Math.floor(i / 4)}:example.org`;
const deviceOf = (i: number): string => `DEVICE${String(i % 4).padStart(4, "0")}`;

const request = (r: number): StoredRequest => ({
  txnId: `kw-${r}-${"x".repeat(16)}`,
  eventType: "m.room_key.withheld",
  messages: Array.from({ length: MESSAGES_PER_REQUEST }, (_, m) => {
    const i = r * MESSAGES_PER_REQUEST + m;
    return {
      userId: userOf(i),
      deviceId: deviceOf(i),
      content: {
        algorithm: "m.megolm.v1.aes-sha2",
        code: "m.no_olm",
        reason: "Unable to establish a secure channel.",
        sender_key: "Hx2kF0pZ1rN5c7Q9uT3wY8bD4gJ6mL2vX0sA5eR7tK1",
        from_device: "ALICEDEVICE",
      },
      origin: { kind: "noOlm", peer: `${userOf(i)}|${deviceOf(i)}`, noticeId: 1 },
    };
  }),
});

const changes: StoreChanges = {
  ...emptyChanges(),
  peers: Array.from(
    { length: PEERS },
    (_, i) => [`${userOf(i)}|${deviceOf(i)}`, i % 10 === 0 ? pending : established] as const,
  ),
  requestsAdded: Array.from({ length: REQUESTS }, (_, r) => request(r)),
  protocolTime: 1_700_000_000_000,
};

const timeOneCommit = async (): Promise<number> => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "kw-commit-time-"));
  try {
    const opened = openSqliteStoreWith({ path: path.join(folder, "store.db") }, { synchronous });
    if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`);
    const started = performance.now();
    await opened.value.commit(changes);
    const elapsed = performance.now() - started;
    opened.value.close();
    return elapsed;
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
};

const times: number[] = [];
for (let run = 0; run < RUNS; run++) times.push(await timeOneCommit());
times.sort((a, b) => a - b);
const median = times[Math.floor(RUNS / 2)] ?? Number.NaN;
const mode = synchronous === "FULL" ? "" : " synchronous=normal";
console.log(`sqlite_commit_ms=${Math.round(median)} peers=${PEERS} requests=${REQUESTS}${mode}`);
