import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/*
 * The TypeScript blocks of the README and the guides, found line by line. A block whose fence
 * says `ts fragment`, or that follows an `<!-- not-checked: reason -->` line, is left out; the
 * reason is kept so a test can insist on one.
 */

export interface CodeBlock {
  /** Relative to the repository root, e.g. `docs/integration.md`. */
  readonly file: string;
  /** 1-based line of the block's first code line. */
  readonly line: number;
  readonly code: string;
}

export interface SkippedBlock {
  readonly file: string;
  readonly line: number;
  /** The fence's or the comment's reason; empty when none was given. */
  readonly reason: string;
}

const FENCE = /^```(ts|typescript)(\s+.*)?$/;
const NOT_CHECKED = /^<!--\s*not-checked:(.*)-->\s*$/;

export function extractBlocks(
  file: string,
  text: string,
): { blocks: CodeBlock[]; skipped: SkippedBlock[] } {
  const lines = text.split("\n");
  const blocks: CodeBlock[] = [];
  const skipped: SkippedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i] ?? "");
    if (fence === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    const close = end === -1 ? lines.length : end;
    const code = lines.slice(i + 1, close).join("\n");
    const info = (fence[2] ?? "").trim();
    const previous = [...lines.slice(0, i)].reverse().find((l) => l.trim() !== "") ?? "";
    const comment = NOT_CHECKED.exec(previous.trim());
    if (info.startsWith("fragment")) {
      skipped.push({
        file,
        line: i + 2,
        reason: info.slice("fragment".length).replace(/^[\s:]+/, ""),
      });
    } else if (comment !== null) {
      skipped.push({ file, line: i + 2, reason: (comment[1] ?? "").trim() });
    } else {
      blocks.push({ file, line: i + 2, code });
    }
    i = close;
  }
  return { blocks, skipped };
}

/** README.md and every Markdown file under docs/, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "api" ? [] : walk(path);
      return entry.name.endsWith(".md") ? [path] : [];
    });
  return ["README.md", ...walk(join(root, "docs")).map((p) => relative(root, p))].sort();
}

export function readBlocks(root: string): { blocks: CodeBlock[]; skipped: SkippedBlock[] } {
  const all = documentationFiles(root).map((file) =>
    extractBlocks(file, readFileSync(join(root, file), "utf8")),
  );
  return { blocks: all.flatMap((a) => a.blocks), skipped: all.flatMap((a) => a.skipped) };
}
