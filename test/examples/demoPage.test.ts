import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { demoPage } from "../../examples/demo/demoPage.js";
import { demoPageDoc } from "../../examples/demo/demoPageDoc.js";
import type { TraceEntry } from "../../examples/demo/demoTrace.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const folder = mkdtempSync(join(tmpdir(), "mkw-demo-page-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// `npm run demo -- …` without npm: node with tsx, as a child process.
async function demo(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "examples/demo/main.ts", ...args],
      { cwd: root },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: String(failed.stdout), stderr: String(failed.stderr) };
  }
}

// The one line that differs between runs: the temporary folder of alice's SQLite file.
const withoutTempPath = (stdout: string) => stdout.replace(/\/\S*mkw-demo-\S*/, "<tmp>");

describe("npm run demo -- --html <file>", () => {
  it("prints what the plain demo prints, exits 0, and writes a self-contained page", async () => {
    const file = join(folder, "demo.html");
    const [plain, html] = await Promise.all([demo(), demo("--html", file)]);
    expect(plain.code).toBe(0);
    expect(html.code).toBe(0);
    expect(plain.stdout).toMatch(/All \d+ checks passed\.\n$/);
    expect(withoutTempPath(html.stdout)).toBe(withoutTempPath(plain.stdout));
    expect(html.stderr).toContain(`wrote the page of this run to ${file}`);

    const page = readFileSync(file, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<p id="verdict" class="verdict pass" role="status"');
    expect(page).toContain('data-lane="homeserver"');
    expect(page).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(page).not.toMatch(/\ssrc=|<link|@import|<img|<iframe/i);
    expect(page).not.toMatch(/url\((?!#)/);
    expect(page.match(/<script/g)).toEqual(["<script"]);
    expect(page).toContain('<script type="application/json" id="demo-data">');
    // Normalised: a run in another process draws the page `npm run diagrams` draws.
    expect(page).toBe(await demoPageDoc());
  });

  it("exits 2 with a clear message on --html without a file, or an unknown argument", async () => {
    const cases = [["--html"], ["--html", "--verbose"], ["--htm", "x.html"]];
    const runs = await Promise.all(cases.map((args) => demo(...args)));
    runs.forEach((run, i) => {
      const args = cases[i]?.join(" ");
      expect(run.code, args).toBe(2);
      expect(run.stdout, `${args}: the story did not run`).toBe("");
      expect(run.stderr, args).toContain("usage: npm run demo [-- --html <file>]");
    });
    expect(runs[0]?.stderr).toMatch(/^--html needs a file/);
    expect(runs[2]?.stderr).toMatch(/^unknown argument --htm/);
  });
});

describe("demoPage", () => {
  const hostile = '<script>alert("x")</script> & \u2028';
  const trace: TraceEntry[] = [
    { kind: "narration", at: "09:00:00", text: `hello ${hostile}` },
    { kind: "claimKeys", from: "eve/<b>", devices: [hostile] },
    { kind: "answer", to: "eve/<b>", ok: false, text: hostile },
    { kind: "state", owner: "eve", peer: hostile, from: "a/b", to: "c/d", event: "E<" },
  ];

  it("escapes every piece of data, in the markup and in the embedded JSON", () => {
    const page = demoPage({ checks: [{ what: hostile, ok: true }], trace });
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page.match(/<\/script>/g)).toHaveLength(1);
    expect(page).not.toContain("<b>");
    expect(page).toContain("eve/&lt;b&gt;");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;");
    const json = page.slice(page.indexOf('id="demo-data">') + 15, page.lastIndexOf("</script>"));
    expect(JSON.parse(json)).toEqual({ checks: [{ what: hostile, ok: true }], trace });
  });

  it("says so when a check failed, and names the machine that changed", () => {
    const page = demoPage({
      checks: [
        { what: "one", ok: true },
        { what: "two", ok: false },
      ],
      trace,
    });
    expect(page).toContain('class="verdict fail"');
    expect(page).toContain(">1 of 2 checks FAILED</p>");
    expect(page).toContain('data-all-passed="false"');
    expect(page).toContain('<li data-check="" data-ok="false">');
    expect(page).toContain('data-machine="eve/&lt;b&gt; → &lt;script&gt;');
    expect(page).toContain('data-final-state="c/d"');
    expect(page.match(/data-arrow="/g)).toHaveLength(2);
  });
});
