import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import type { CodeBlock } from "./codeBlocks.js";

/*
 * Type-checks documentation blocks as a reader's project would: each block its own ES module,
 * `matrix-key-withholding` and its subpaths resolved (through `paths`) to the entry files the
 * package.json `exports` map builds from, strict settings as in this repository.
 */

/** `{ "./sqlite": { import: "./dist/sqlite.js" } }` → `matrix-key-withholding/sqlite` → src/sqlite.ts. */
export function entryPaths(root: string, packageJson: unknown): Record<string, string[]> {
  const pkg = packageJson as { name: string; exports: Record<string, unknown> };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const built = (target as { import?: unknown } | string | null) ?? null;
    const file = typeof built === "object" && built !== null ? built.import : undefined;
    if (typeof file !== "string" || !file.startsWith("./dist/")) continue;
    const source = file.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
    paths[subpath === "." ? pkg.name : `${pkg.name}${subpath.slice(1)}`] = [join(root, source)];
  }
  return paths;
}

/** A diagnostic, as `file:line: TSnnnn message` pointing into the Markdown file. */
export interface BlockDiagnostic {
  readonly where: string;
  readonly message: string;
}

export function typeCheckBlocks(
  root: string,
  blocks: readonly CodeBlock[],
  paths: Record<string, string[]>,
): BlockDiagnostic[] {
  // Inside the repository's node_modules, so a block's other imports (vitest, fast-check)
  // resolve as in a reader's project that installed them.
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const folder = mkdtempSync(join(cache, "doc-blocks-"));
  try {
    const files = blocks.map((block, i) => {
      const path = join(folder, `block${i}.mts`);
      // `export {}` makes a block without imports a module too, so blocks cannot clash.
      writeFileSync(path, `${block.code}\nexport {};\n`);
      return { path, block };
    });
    const program = ts.createProgram(
      files.map((f) => f.path),
      {
        target: ts.ScriptTarget.ES2022,
        lib: ["lib.es2022.d.ts"],
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: true,
        noEmit: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        baseUrl: root,
        paths,
      },
    );
    const byPath = new Map(files.map((f) => [f.path, f.block] as const));
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      const block = d.file === undefined ? undefined : byPath.get(d.file.fileName);
      if (d.file === undefined || d.start === undefined) return { where: "(program)", message };
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const where =
        block === undefined
          ? `${d.file.fileName}:${line + 1}`
          : `${block.file}:${block.line + line}`;
      return { where, message: `TS${d.code} ${message}` };
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
