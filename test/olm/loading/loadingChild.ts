/*
 * Runs one libolm-loading scenario in a fresh process (libolm's state is per process, and these
 * scenarios need it untouched) and prints its observations as one JSON line.
 * Usage: node --import tsx loadingChild.ts <scenario>
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import Olm from "@matrix-org/olm";
import { parseDeviceId, parseUserId } from "../../../src/index.js";
import type { AccountFailure } from "../../../src/libolm.js";
import { LibolmBackend, loadLibolm } from "../../../src/libolm.js";

type Outcome = { readonly ok: true } | ({ readonly ok: false } & AccountFailure);

const wasmPath = createRequire(import.meta.url).resolve("@matrix-org/olm/olm.wasm");
const listenerCounts = () => [
  process.listeners("uncaughtException").length,
  process.listeners("unhandledRejection").length,
];

const seen = (outcome: Outcome) =>
  outcome.ok
    ? { ok: true }
    : {
        ok: false,
        reason: outcome.reason,
        detail: outcome.detail,
        causeIsError: outcome.cause instanceof Error,
        causeMessage: outcome.cause?.message,
      };

/** A wrong location, then bytes that are not libolm's, then the right location. */
async function retry(): Promise<object> {
  const wasm = readFileSync(wasmPath);
  const server = createServer((request, response) => {
    if (request.url === "/assets/olm.wasm") response.writeHead(200).end(wasm);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const before = listenerCounts();
  try {
    const wrongUrl = await loadLibolm({ wasmUrl: `${base}/olm.wasm` });
    const notOlm = await loadLibolm({
      wasmBinary: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    });
    const right = await loadLibolm({ wasmUrl: new URL("/assets/olm.wasm", base) });
    const userId = parseUserId("@alice:example.org");
    const deviceId = parseDeviceId("ALICE");
    if (!userId.ok || !deviceId.ok) throw new Error("fixture ids");
    const backend = await LibolmBackend.create({ userId: userId.value, deviceId: deviceId.value });
    if (backend.ok) backend.value.dispose();
    return {
      wrongUrl: seen(wrongUrl),
      notOlm: seen(notOlm),
      right: seen(right),
      backend: backend.ok,
      globals: ["Olm", "OLM_OPTIONS"].filter((name) => Object.hasOwn(globalThis, name)),
      listenersKept: JSON.stringify(listenerCounts()) === JSON.stringify(before),
    };
  } finally {
    server.close();
  }
}

/**
 * A host calling libolm's init itself, badly: libolm's abort leaves rejections unhandled and its
 * own listeners rethrow them, so this host removes those and ignores unhandled rejections.
 */
function hostInit(options: object): Promise<void> {
  const before = new Set(process.listeners("uncaughtException"));
  const init = Olm.init(options);
  for (const listener of process.listeners("uncaughtException")) {
    if (!before.has(listener)) process.removeListener("uncaughtException", listener);
  }
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", () => {});
  return init;
}

/** libolm on its own: a failed init is kept, and a second init with a good location gets it. */
async function libolmCaches(): Promise<object> {
  const first = hostInit({ locateFile: () => "/nonexistent/olm.wasm" });
  const second = hostInit({ locateFile: () => wasmPath });
  const settled = await Promise.allSettled([first, second]);
  return { samePromise: first === second, states: settled.map((s) => s.status) };
}

/** A host whose own libolm init failed: the failure is reported, as a real Error, each time. */
async function hostFailed(): Promise<object> {
  await hostInit({ locateFile: () => "/nonexistent/olm.wasm" }).catch(() => undefined);
  const first = await loadLibolm();
  const again = await loadLibolm({ wasmBinary: readFileSync(wasmPath) });
  return { first: seen(first), again: seen(again), same: first === again };
}

const scenarios: Record<string, () => Promise<object>> = { retry, libolmCaches, hostFailed };
const run = scenarios[process.argv[2] ?? ""];
if (run === undefined) throw new Error(`unknown scenario ${process.argv[2]}`);
process.stdout.write(`${JSON.stringify(await run())}\n`);
