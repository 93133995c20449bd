import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** What `files` in package.json ships besides the build. */
const SHIPPED = ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "docs"];

/** The packages a consumer would have installed beside ours, taken from the repo's. */
const INSTALLED_BESIDE = ["xstate", "@matrix-org/olm", "better-sqlite3", "fast-check"];

export interface StagedPackage {
  /** A consumer project: its node_modules has our package and its dependencies. */
  readonly consumer: string;
  /** node_modules/matrix-key-withholding inside it: package.json, docs and a fresh build. */
  readonly packageDir: string;
}

/**
 * Builds the package from src into a temporary consumer project, as an install would lay it out
 * (a real directory, so its dependencies resolve from the consumer's node_modules), without
 * touching the repo's dist/. Takes about 15 s (tsc).
 */
export function stagePackage(): StagedPackage {
  const consumer = mkdtempSync(join(tmpdir(), "mkw-package-"));
  const packageDir = join(consumer, "node_modules", "matrix-key-withholding");
  mkdirSync(packageDir, { recursive: true });
  for (const name of SHIPPED)
    cpSync(join(repoRoot, name), join(packageDir, name), { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(repoRoot, "node_modules/typescript/bin/tsc"),
      "-p",
      join(repoRoot, "tsconfig.build.json"),
      "--outDir",
      join(packageDir, "dist"),
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  for (const name of INSTALLED_BESIDE) {
    const link = join(consumer, "node_modules", name);
    mkdirSync(join(link, ".."), { recursive: true });
    symlinkSync(join(repoRoot, "node_modules", name), link, "dir");
  }
  return { consumer, packageDir };
}
