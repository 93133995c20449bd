import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

/*
 * The package as a consumer sees it: built with tsc, imported by name through the `exports`
 * map by a plain Node process. The list of names is deliberate; changing it is an API change.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));
const node = (script: string): string =>
  execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    // A refused import's stack trace belongs in the thrown error, not in the test output.
    stdio: ["ignore", "pipe", "pipe"],
  });

const PUBLIC_NAMES = [
  "CLAIM_BACKOFF_BASE_MS",
  "CLAIM_BACKOFF_CAP_MS",
  "DEFAULT_CALL_TIMEOUT_MS",
  "DEFAULT_MAX_CONCURRENT_REQUESTS",
  "DEFAULT_MAX_MESSAGES_PER_REQUEST",
  "DEFAULT_MAX_RECEIVED_WITHHELD",
  "DeviceList",
  "HookTimedOut",
  "InMemoryStore",
  "MAX_REASON_LENGTH",
  "MEGOLM_ALGORITHM",
  "NO_OLM_CODE",
  "OLM_ALGORITHM",
  "REPLY_INTERVAL_MS",
  "RETRY_BASE_MS",
  "RETRY_CAP_MS",
  "SENDABLE_SESSION_CODES",
  "SESSION_WITHHELD_CODES",
  "SPEC_WITHHELD_CODES",
  "StoreFailure",
  "WITHHELD_EVENT_TYPE",
  "brokenInvariant",
  "buildNoOlmNotice",
  "buildSessionWithheldNotice",
  "claimBackoffMs",
  "classifyWithheldCode",
  "createKeyWithholding",
  "decodeWithheldContent",
  "decodeWithheldEvent",
  "defaultWithheldReason",
  "emptyChanges",
  "encodeWithheldContent",
  "initialPeerSnapshot",
  "isCurve25519PublicKey",
  "isDeviceId",
  "isEd25519PublicKey",
  "isRoomId",
  "isSendableSessionCode",
  "isSessionId",
  "isSpecWithheldCode",
  "isUserId",
  "mermaidStateDiagram",
  "ok",
  "openKeyWithholding",
  "parseCurve25519PublicKey",
  "parseDeviceId",
  "parseEd25519PublicKey",
  "parsePeerEvent",
  "parseRoomId",
  "parseSessionId",
  "parseUserId",
  "peerKeyOf",
  "peerLeaves",
  "peerMachine",
  "persistPeerSnapshot",
  "restorePeerSnapshot",
  "stepPeer",
  "systemClock",
];

describe("the published package", () => {
  beforeAll(() => {
    execFileSync(
      process.execPath,
      ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"],
      {
        cwd: root,
      },
    );
  }, 120_000);

  it("exports exactly the documented names through its exports map", () => {
    const names = node(
      "const m = await import('matrix-key-withholding'); console.log(Object.keys(m).sort().join(','))",
    ).trim();
    expect(names.split(",")).toEqual([...PUBLIC_NAMES].sort());
  });

  it("offers libolm on its own entry point, and the root never loads libolm", () => {
    const names = node(
      "const m = await import('matrix-key-withholding/libolm'); console.log(Object.keys(m).sort().join(','))",
    ).trim();
    expect(names.split(",")).toEqual([
      "DEFAULT_MAX_PEERS",
      "DEFAULT_MAX_SESSIONS_PER_DEVICE",
      "LibolmBackend",
      "MAX_ACCOUNT_PICKLE_BYTES",
      "MAX_PICKLE_KEY_BYTES",
      "MAX_SESSION_PICKLE_BYTES",
      "MIN_PICKLE_KEY_BYTES",
      "loadLibolm",
    ]);
    // Importing either entry loads no libolm; only a first load does (its import sets window.Olm).
    const loaded = node(
      [
        "import { createRequire } from 'node:module';",
        "const require = createRequire(import.meta.url);",
        "const seen = () => Object.keys(require.cache).some((p) => p.includes('@matrix-org/olm'));",
        "await import('matrix-key-withholding');",
        "const afterRoot = seen();",
        "const { loadLibolm } = await import('matrix-key-withholding/libolm');",
        "const afterImport = seen();",
        "const outcome = await loadLibolm();",
        "console.log(JSON.stringify([afterRoot, afterImport, outcome.ok, seen()]));",
      ].join("\n"),
    ).trim();
    expect(JSON.parse(loaded)).toEqual([false, false, true, true]);
  });

  it("offers the SQLite store on its own entry point, and the root never loads it", () => {
    const names = node(
      "const m = await import('matrix-key-withholding/sqlite'); console.log(Object.keys(m).sort().join(','))",
    ).trim();
    expect(names.split(",")).toEqual(["SQLITE_SCHEMA_VERSION", "openSqliteStore"]);
    // A root import in a fresh process leaves better-sqlite3 unloaded; the sqlite entry loads it.
    const loaded = node(
      [
        "import { createRequire } from 'node:module';",
        "const require = createRequire(import.meta.url);",
        "const seen = () => Object.keys(require.cache).some((p) => p.includes('better-sqlite3'));",
        "await import('matrix-key-withholding');",
        "const afterRoot = seen();",
        "await import('matrix-key-withholding/sqlite');",
        "console.log(JSON.stringify([afterRoot, seen()]));",
      ].join("\n"),
    ).trim();
    expect(JSON.parse(loaded)).toEqual([false, true]);
  });

  it("offers the IndexedDB store on its own entry point, which in Node refuses as data", () => {
    const out = node(
      [
        "const m = await import('matrix-key-withholding/indexeddb');",
        "const opened = await m.openIndexedDbStore({ name: 'kw' });",
        "console.log(JSON.stringify([Object.keys(m).sort(), opened.ok, opened.reason]));",
      ].join("\n"),
    ).trim();
    expect(JSON.parse(out)).toEqual([
      ["INDEXEDDB_SCHEMA_VERSION", "openIndexedDbStore"],
      false,
      "ioError",
    ]);
  });

  it("keeps internals unreachable", () => {
    expect(() =>
      node("await import('matrix-key-withholding/dist/machine/peerMachine.js')"),
    ).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("works from plain Node: a failure yields one m.no_olm command", () => {
    const out = node(
      [
        "const { stepPeer, initialPeerSnapshot } = await import('matrix-key-withholding');",
        "const r = stepPeer(initialPeerSnapshot, { type: 'ESTABLISH_FAILED', at: 1 });",
        "console.log(JSON.stringify(r.commands));",
      ].join("\n"),
    );
    expect(JSON.parse(out)).toEqual([{ type: "sendNoOlm", noticeId: 1 }]);
  });
});
