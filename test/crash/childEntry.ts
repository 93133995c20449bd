import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

/*
 * How the child is started. Under `--import tsx` Node spends ~1.5 s per start compiling the
 * library on this machine; a kill costs one start, so by default the child entry is bundled once
 * per run with esbuild (tsx's own compiler, already installed) and started as plain Node
 * (~0.4 s). The bundle is the same source; libolm and better-sqlite3 stay external packages.
 */

export interface ChildEntry {
  readonly kind: "bundle" | "tsx";
  readonly script: string;
  readonly execArgv: readonly string[];
  /** Removes the bundle, if one was written. */
  dispose(): void;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHILD_SOURCE = fileURLToPath(new URL("./crashChild.ts", import.meta.url));
// Under node_modules so the bundle resolves the external packages from the repository.
const CACHE_DIR = `${ROOT}node_modules/.cache/crash-test`;

export async function prepareChildEntry(kind: "bundle" | "tsx" = "bundle"): Promise<ChildEntry> {
  if (kind === "tsx") return tsxEntry();
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    return tsxEntry();
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  removeStaleBundles();
  const script = `${CACHE_DIR}/crashChild-${process.pid}-${randomBytes(4).toString("hex")}.mjs`;
  await esbuild.build({
    entryPoints: [CHILD_SOURCE],
    outfile: script,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["@matrix-org/olm", "better-sqlite3"],
    // Bundled CommonJS (if any) may call require.
    banner: {
      js: 'import { createRequire as __crashRequire } from "node:module"; const require = __crashRequire(import.meta.url);',
    },
    logLevel: "error",
  });
  return {
    kind: "bundle",
    script,
    execArgv: [],
    dispose: () => rmSync(script, { force: true }),
  };
}

/** Bundles a killed parent could not remove (older than an hour). */
function removeStaleBundles(): void {
  for (const name of readdirSync(CACHE_DIR)) {
    const path = `${CACHE_DIR}/${name}`;
    if (name.startsWith("crashChild-") && Date.now() - statSync(path).mtimeMs > 3_600_000) {
      rmSync(path, { force: true });
    }
  }
}

const tsxEntry = (): ChildEntry => ({
  kind: "tsx",
  script: CHILD_SOURCE,
  execArgv: ["--import", "tsx"],
  dispose: () => {},
});
