import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type StagedPackage, stagePackage } from "./stagePackage.js";

/*
 * The package as installed: every entry loads by name with import() and with require() (Node's
 * require(esm); the exports map's `default` condition points at the same ESM file), and its
 * source maps resolve to sources that ship.
 */
const ENTRIES = [
  "matrix-key-withholding",
  "matrix-key-withholding/libolm",
  "matrix-key-withholding/sqlite",
  "matrix-key-withholding/indexeddb",
  "matrix-key-withholding/testing",
];

let staged: StagedPackage;
beforeAll(() => {
  staged = stagePackage();
}, 120_000);
afterAll(() => rmSync(staged.consumer, { recursive: true, force: true }));

const node = (args: string[]): string =>
  execFileSync(process.execPath, args, {
    cwd: staged.consumer,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));

describe("CommonJS and ESM consumers", () => {
  it("require() and import() of every entry give the same exports", () => {
    const script = `
      const entries = ${JSON.stringify(ENTRIES)};
      const out = {};
      for (const name of entries) {
        const required = Object.keys(require(name)).sort();
        out[name] = { required };
      }
      Promise.all(entries.map((name) => import(name))).then((modules) => {
        modules.forEach((m, i) => { out[entries[i]].imported = Object.keys(m).sort(); });
        console.log(JSON.stringify(out));
      });`;
    const seen = JSON.parse(node(["-e", script])) as Record<
      string,
      { required: string[]; imported: string[] }
    >;
    expect(Object.keys(seen)).toEqual(ENTRIES);
    for (const name of ENTRIES) {
      expect(seen[name]?.required.length, name).toBeGreaterThan(0);
      expect(seen[name]?.required, name).toEqual(seen[name]?.imported);
    }
    expect(seen["matrix-key-withholding"]?.required).toContain("createKeyWithholding");
    expect(seen["matrix-key-withholding/libolm"]?.required).toContain("LibolmBackend");
  });

  it("a CommonJS consumer loads libolm through the required ./libolm entry", () => {
    const script = `
      const { LibolmBackend } = require("matrix-key-withholding/libolm");
      LibolmBackend.create({ userId: "@a:example.org", deviceId: "A" }).then((r) => {
        console.log(JSON.stringify({ ok: r.ok, key: r.ok ? typeof r.value.ownDevice.curve25519 : r.detail }));
        if (r.ok) r.value.dispose();
      });`;
    expect(JSON.parse(node(["-e", script]))).toEqual({ ok: true, key: "string" });
  });
});

describe("what ships", () => {
  it("every source map carries its sources, or they are in the packed file list", () => {
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: staged.packageDir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }),
    ) as { files: { path: string }[] }[];
    const files = new Set(packed[0]?.files.map((f) => f.path));
    expect(files.has("LICENSE")).toBe(true);
    expect(files.has("CHANGELOG.md")).toBe(true);
    const maps = [...files].filter((path) => path.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(50);
    const unresolved: string[] = [];
    for (const mapPath of maps) {
      const map = JSON.parse(readFileSync(join(staged.packageDir, mapPath), "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      map.sources.forEach((source, i) => {
        const shipped = relative(
          staged.packageDir,
          resolve(staged.packageDir, mapPath, "..", source),
        );
        if (typeof map.sourcesContent?.[i] !== "string" && !files.has(shipped)) {
          unresolved.push(`${mapPath} → ${source}`);
        }
      });
    }
    expect(unresolved).toEqual([]);
  });

  it("no source file has a top-level await (require() of an ES module refuses one)", async () => {
    const sources = filesUnder(join(repoRoot, "src")).filter((path) => path.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(50);
    const withTopLevelAwait: string[] = [];
    for (const path of sources) {
      // esbuild refuses a top-level await when it has to write CommonJS: the same rule.
      await transform(readFileSync(path, "utf8"), {
        loader: "ts",
        format: "cjs",
        logLevel: "silent",
      }).catch(() => withTopLevelAwait.push(relative(repoRoot, path)));
    }
    expect(withTopLevelAwait).toEqual([]);
  });

  it("the top-level-await check notices one", async () => {
    await expect(
      transform("export const x = await Promise.resolve(1);", {
        loader: "ts",
        format: "cjs",
        logLevel: "silent",
      }),
    ).rejects.toThrow(/Top-level await/);
  });
});
