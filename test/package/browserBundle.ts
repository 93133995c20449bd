import { existsSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The entries meant for browsers, by source file (./sqlite is Node only). */
export function browserEntries(): Record<string, string> {
  const entries: Record<string, string> = {
    root: "src/index.ts",
    libolm: "src/libolm.ts",
    indexeddb: "src/indexeddb.ts",
  };
  if (existsSync(join(repoRoot, "src/testing/index.ts"))) entries.testing = "src/testing/index.ts";
  return entries;
}

/**
 * libolm 3.2.15's olm.js has Node branches: `fs` and `path` only under its
 * `process.versions.node` test, `crypto` only where there is no `window` (Node, or a Web Worker).
 * A browser page never reaches them, so a bundle maps exactly these three, imported from olm.js
 * and from nowhere else, to empty modules: what webpack's `resolve.fallback: { crypto: false,
 * fs: false, path: false }` does and what Vite does on its own. (In a Web Worker, libolm would
 * call `crypto.randomBytes` on the empty module and every key generation would fail as a
 * TypeError, never with weak randomness.)
 */
export const LIBOLM_NODE_BRANCHES = ["crypto", "fs", "path"] as const;

const libolmNodeBranches: Plugin = {
  name: "libolm-node-branches",
  setup(on) {
    on.onResolve({ filter: /^(crypto|fs|path)$/ }, (args) =>
      args.importer.replaceAll("\\", "/").endsWith("node_modules/@matrix-org/olm/olm.js")
        ? { path: args.path, namespace: "libolm-node-branch" }
        : undefined,
    );
    on.onLoad({ filter: /.*/, namespace: "libolm-node-branch" }, () => ({
      contents: "module.exports = {};",
      loader: "js",
    }));
  },
};

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isNodeBuiltin = (path: string): boolean =>
  path.startsWith("node:") ||
  NODE_BUILTINS.has(path) ||
  NODE_BUILTINS.has(path.split("/")[0] ?? "");

export interface BrowserBundle {
  readonly code: string;
  readonly metafile: Metafile;
  /** Inputs and imports of the bundle that are Node built-ins (must be none). */
  readonly nodeBuiltins: readonly string[];
  /** Where libolm's Node-only imports were mapped to empty modules. */
  readonly emptied: readonly string[];
}

export async function bundleForBrowser(
  entry: string,
  options: Pick<BuildOptions, "minify" | "format" | "globalName" | "external"> = {},
): Promise<BrowserBundle> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "browser",
    format: "esm",
    logLevel: "silent",
    plugins: [libolmNodeBranches],
    ...options,
  });
  const metafile = result.metafile;
  const inputs = Object.keys(metafile.inputs);
  const imports = Object.values(metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return {
    code: result.outputFiles[0]?.text ?? "",
    metafile,
    nodeBuiltins: [...inputs, ...imports].filter(isNodeBuiltin),
    emptied: inputs.filter((path) => path.startsWith("libolm-node-branch:")),
  };
}

export const gzipBytes = (text: string | Uint8Array): number => gzipSync(text, { level: 9 }).length;
