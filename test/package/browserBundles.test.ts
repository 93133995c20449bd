import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { browserEntries, bundleForBrowser, LIBOLM_NODE_BRANCHES } from "./browserBundle.js";

/*
 * Every entry meant for browsers bundles with esbuild for platform=browser from its source, with
 * no Node built-in among its inputs or imports. The one allowance is libolm's own Node branches
 * (browserBundle.ts says why); the root entry must not contain libolm at all.
 */
const entries = browserEntries();
const libolmNodeBranches = LIBOLM_NODE_BRANCHES.map((name) => `libolm-node-branch:${name}`).sort();

describe("browser bundles", () => {
  it.each(Object.entries(entries))("%s (%s) bundles with no Node built-in", async (name, entry) => {
    const bundle = await bundleForBrowser(entry);
    expect(bundle.nodeBuiltins).toEqual([]);
    const inputs = Object.keys(bundle.metafile.inputs);
    // The IndexedDB store is raw IndexedDB and Web Locks: neither libolm nor the machine.
    const withLibolm = name !== "root" && name !== "indexeddb";
    const hasLibolm = inputs.some((path) => path.includes("node_modules/@matrix-org/olm/"));
    expect(hasLibolm).toBe(withLibolm);
    expect([...bundle.emptied].sort()).toEqual(withLibolm ? libolmNodeBranches : []);
    // The libolm backend is plain libolm; the machine (and so xstate) is the root's.
    const hasXstate = inputs.some((path) => path.includes("node_modules/xstate/"));
    expect(hasXstate).toBe(name !== "libolm" && name !== "indexeddb");
    if (name === "indexeddb")
      expect(inputs.filter((path) => path.includes("node_modules/"))).toEqual([]);
  });

  it("the root entry never touches libolm, SQLite, IndexedDB or Node built-ins", async () => {
    const bundle = await bundleForBrowser(entries.root ?? "");
    const foreign = Object.keys(bundle.metafile.inputs).filter((path) =>
      /@matrix-org\/olm|better-sqlite3|src\/store\/(sqlite|indexeddb)|src\/olm\/(libolm|olmRuntime|olmModule)/.test(
        path,
      ),
    );
    expect(foreign).toEqual([]);
  });

  it("fails on a Node built-in, and empties bare `crypto` only for libolm", async () => {
    await expect(bundleForBrowser("test/package/fixtures/importsNodeFs.ts")).rejects.toThrow(
      /node:fs/,
    );
    await expect(bundleForBrowser("test/package/fixtures/importsBareCrypto.ts")).rejects.toThrow(
      /crypto/,
    );
  });

  it("the ./libolm bundle makes an Olm account in a window-like context without Node", async () => {
    const bundle = await bundleForBrowser(entries.libolm ?? "", {
      format: "iife",
      globalName: "matrixKeyWithholdingLibolm",
    });
    // A page's globals: no process, no require, no module; crypto.getRandomValues only.
    const page = createContext({
      crypto: { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) },
      console,
    });
    runInContext("globalThis.window = globalThis;", page);
    runInContext(bundle.code, page);
    const importedGlobals = runInContext(
      "['Olm', 'OLM_OPTIONS'].filter((n) => n in globalThis)",
      page,
    );
    expect(importedGlobals).toEqual([]);
    page.wasm = readFileSync(createRequire(import.meta.url).resolve("@matrix-org/olm/olm.wasm"));
    const seen = await runInContext(
      `(async () => {
        const wasmBinary = new Uint8Array(wasm.length);
        wasmBinary.set(wasm);
        const created = await matrixKeyWithholdingLibolm.LibolmBackend.create({
          userId: "@alice:example.org", deviceId: "ALICE", wasmBinary,
        });
        const out = {
          ok: created.ok,
          keyLength: created.ok ? created.value.ownDevice.curve25519.length : created.detail,
          globals: ["Olm", "OLM_OPTIONS", "process"].filter((n) => n in globalThis),
        };
        if (created.ok) created.value.dispose();
        return JSON.stringify(out);
      })()`,
      page,
    );
    expect(JSON.parse(seen)).toEqual({ ok: true, keyLength: 43, globals: [] });
  });

  it("in a page, a wrong wasmUrl fails as data and the default (olm.wasm beside the page) then loads", async () => {
    const wasm = readFileSync(createRequire(import.meta.url).resolve("@matrix-org/olm/olm.wasm"));
    const server = createServer((request, response) => {
      if (request.url === "/app/olm.wasm") response.writeHead(200).end(wasm);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const bundle = await bundleForBrowser(entries.libolm ?? "", {
        format: "iife",
        globalName: "matrixKeyWithholdingLibolm",
      });
      const page = createContext({
        crypto: { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) },
        fetch,
        URL,
        location: { href: `${origin}/app/index.html` },
      });
      runInContext("globalThis.window = globalThis;", page);
      runInContext(bundle.code, page);
      const seen = await runInContext(
        `(async () => {
          const { loadLibolm } = matrixKeyWithholdingLibolm;
          const wrong = await loadLibolm({ wasmUrl: "/static/olm.wasm" });
          const fallback = await loadLibolm();
          return JSON.stringify({ wrong: wrong.ok ? "ok" : wrong.detail, causeIsError: wrong.cause instanceof Error, fallback: fallback.ok });
        })()`,
        page,
      );
      expect(JSON.parse(seen)).toEqual({
        wrong: `Fetching ${origin}/static/olm.wasm: HTTP 404.`,
        causeIsError: true,
        fallback: true,
      });
    } finally {
      server.close();
    }
  });
});
