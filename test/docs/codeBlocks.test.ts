import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { extractBlocks, readBlocks } from "./codeBlocks.js";
import { entryPaths, typeCheckBlocks } from "./typeCheckBlocks.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const packageJson: unknown = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));

describe("TypeScript blocks in README.md and docs/", () => {
  const { blocks, skipped } = readBlocks(root);

  it("every block type-checks against the package's entry points", () => {
    const diagnostics = typeCheckBlocks(root, blocks, entryPaths(root, packageJson));
    expect(diagnostics.map((d) => `${d.where}: ${d.message}`)).toEqual([]);
  });

  it("checks the README's example and the guides' blocks", () => {
    expect(blocks.filter((b) => b.file === "README.md").length).toBeGreaterThanOrEqual(1);
    expect(blocks.filter((b) => b.file === "docs/integration.md").length).toBeGreaterThanOrEqual(5);
  });

  it("a block left out says why", () => {
    expect(skipped.filter((s) => s.reason === "")).toEqual([]);
  });
});

describe("the checker itself", () => {
  it("reports a wrong block at the Markdown line of the error", () => {
    // No import of the package: a program over one small block stays fast.
    const md = ["# t", "", "```ts", "const ok = 1;", 'const n: number = "one";', "```"].join("\n");
    const { blocks } = extractBlocks("x.md", md);
    const diagnostics = typeCheckBlocks(root, blocks, {});
    expect(diagnostics.map((d) => d.where)).toEqual(["x.md:5"]);
    expect(diagnostics[0]?.message).toMatch(/^TS2322 /);
  });

  it("leaves out marked fragments and keeps their reasons", () => {
    const md = [
      "```ts fragment: a shape",
      "x",
      "```",
      "<!-- not-checked: pseudo-code -->",
      "",
      "```typescript",
      "y",
      "```",
    ].join("\n");
    expect(extractBlocks("x.md", md)).toEqual({
      blocks: [],
      skipped: [
        { file: "x.md", line: 2, reason: "a shape" },
        { file: "x.md", line: 7, reason: "pseudo-code" },
      ],
    });
  });

  it("maps every package entry to its source file", () => {
    const paths = entryPaths(root, packageJson);
    expect(paths["matrix-key-withholding"]).toEqual([`${root}src/index.ts`]);
    expect(paths["matrix-key-withholding/sqlite"]).toEqual([`${root}src/sqlite.ts`]);
  });
});
