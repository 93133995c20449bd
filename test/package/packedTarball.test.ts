import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { repoRoot, stagePackage } from "./stagePackage.js";

/*
 * A new user's first hour: `npm pack`, a fresh ESM TypeScript project (strict, nodenext), the
 * tarball installed from the registry with its dependencies, and the README's example compiled
 * and run as it is. Its `declare`d values (the client's transport, devices, key) come from a
 * preloaded script (fixtures/readmeGlobals.mjs).
 */
const work: string[] = [];
afterAll(() => {
  for (const dir of work) rmSync(dir, { recursive: true, force: true });
});

const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The first TypeScript block under "## API overview". */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## API overview"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("README.md has no ts block under API overview");
  return block;
}

/**
 * better-sqlite3 compiles its addon on install (about two minutes here, and its prebuilt download
 * is unreachable), so the install skips scripts and takes the repo's build of the same version.
 */
function provideSqliteAddon(project: string): void {
  const release = "node_modules/better-sqlite3/build/Release";
  mkdirSync(join(project, release), { recursive: true });
  copyFileSync(
    join(repoRoot, release, "better_sqlite3.node"),
    join(project, release, "better_sqlite3.node"),
  );
}

it("the packed tarball installs into a fresh ESM project, and the README example compiles and runs", () => {
  const staged = stagePackage();
  work.push(staged.consumer);
  const packed = JSON.parse(
    run(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", staged.consumer],
      staged.packageDir,
    ),
  ) as { filename: string }[];
  const tarball = join(staged.consumer, packed[0]?.filename ?? "");

  const project = mkdtempSync(join(tmpdir(), "mkw-readme-"));
  work.push(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "readme-example", private: true, type: "module" }),
  );
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        lib: ["es2022", "dom"],
        types: [],
        skipLibCheck: false,
        noEmitOnError: true,
      },
      files: ["index.ts"],
    }),
  );
  run("npm", ["install", tarball, "--ignore-scripts", "--no-audit", "--no-fund"], project);
  const installed = JSON.parse(
    readFileSync(join(project, "node_modules/matrix-key-withholding/package.json"), "utf8"),
  ) as { files: string[] };
  expect(installed.files).toContain("LICENSE");
  // xstate is a peer dependency: npm installs it once, at the top, for the client and us both.
  expect(readFileSync(join(project, "node_modules/xstate/package.json"), "utf8")).toContain(
    '"version": "5.',
  );
  // better-sqlite3 is an optional peer: a client that never imports /sqlite (a browser client)
  // installs no native addon. The README's example uses /sqlite, so it is installed next, as the
  // README says.
  expect(existsSync(join(project, "node_modules/better-sqlite3"))).toBe(false);
  const sqlite = JSON.parse(
    readFileSync(join(repoRoot, "node_modules/better-sqlite3/package.json"), "utf8"),
  ) as { version: string };
  run(
    "npm",
    ["install", `better-sqlite3@${sqlite.version}`, "--ignore-scripts", "--no-audit", "--no-fund"],
    project,
  );
  provideSqliteAddon(project);

  writeFileSync(join(project, "index.ts"), readmeExample());
  run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "."], project);
  const globals = join(repoRoot, "test/package/fixtures/readmeGlobals.mjs");
  const output = run(process.execPath, ["--import", globals, "index.js"], project);
  // The unknown sender's notice is refused, nothing explains the question, and nothing was sent.
  expect(output.trim().split("\n")).toEqual(["rejected"]);
}, 240_000);
