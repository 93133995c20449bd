import { beforeAll, describe, expect, it } from "vitest";
import { page } from "vitest/browser";
import pageHtml from "../../../docs/diagrams/demo.html?raw";
import { demoPage, type PageRun } from "../../../examples/demo/demoPage.js";

/*
 * docs/diagrams/demo.html (written by `npm run diagrams`) as Chromium renders it: in an iframe,
 * checked against the run the page embeds (#demo-data), measured, and photographed to
 * test/browser/__screenshots__/demo-page-*.png (gitignored) for a human to look at.
 */

const NETWORK = new Set(["sendToDevice", "claimKeys", "answer", "sync"]);
// A desktop window; the frame fills the test page so a screenshot shows what a reader sees.
const [WIDTH, HEIGHT] = [1400, 788];

let frame: HTMLIFrameElement;
let doc: Document;
let run: PageRun;

beforeAll(async () => {
  await page.viewport(WIDTH, HEIGHT);
  document.body.style.margin = "0";
  frame = document.createElement("iframe");
  frame.style.cssText = `width: ${WIDTH}px; height: ${HEIGHT}px; border: 0; display: block;`;
  const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  frame.srcdoc = pageHtml;
  document.body.append(frame);
  await loaded;
  const inner = frame.contentDocument;
  if (inner === null) throw new Error("the iframe has no document");
  doc = inner;
  await doc.fonts.ready;
  const data: unknown = JSON.parse(doc.getElementById("demo-data")?.textContent ?? "null");
  if (data === null || typeof data !== "object" || !("trace" in data) || !("checks" in data))
    throw new Error("the page embeds no run");
  run = data as PageRun;
});

// Array.from: the project's lib has the DOM (through vite/client) but not DOM.Iterable.
const all = (selector: string, root: ParentNode = doc): Element[] =>
  Array.from(root.querySelectorAll(selector));

describe("docs/diagrams/demo.html in Chromium", () => {
  it("is exactly what the renderer makes of its own data, here in the browser", () => {
    expect(run.trace.length).toBeGreaterThan(50);
    expect(demoPage(run)).toBe(pageHtml);
  });

  it("loads nothing: no resource was fetched and nothing points elsewhere", () => {
    const view = frame.contentWindow;
    expect(view?.performance.getEntriesByType("resource")).toEqual([]);
    expect(all("[src], link, script:not([type='application/json']), iframe, object")).toEqual([]);
    expect(all("a[href]").filter((a) => !a.getAttribute("href")?.startsWith("#"))).toEqual([]);
  });

  it("says all checks passed and lists each one", () => {
    expect(run.checks.length).toBeGreaterThanOrEqual(15);
    expect(doc.getElementById("verdict")?.textContent).toBe(
      `All ${run.checks.length} checks passed`,
    );
    const checks = all("#checks li[data-check]");
    expect(checks.map((li) => li.lastElementChild?.textContent)).toEqual(
      run.checks.map((c) => c.what),
    );
    expect(checks.every((li) => li.getAttribute("data-ok") === "true")).toBe(true);
    expect(doc.getElementById("checks")?.dataset.allPassed).toBe("true");
  });

  it("has a lane for each device and the homeserver, and an arrow per network entry", () => {
    const devices = new Set(
      run.trace.flatMap((e) =>
        e.kind === "sendToDevice" || e.kind === "claimKeys"
          ? [e.from]
          : e.kind === "answer"
            ? [e.to]
            : e.kind === "sync"
              ? [e.device]
              : [],
      ),
    );
    expect(devices.size).toBe(3);
    const lanes = all("svg.sequence g.lane").map((g) => g.getAttribute("data-lane"));
    expect(new Set(lanes)).toEqual(new Set([...devices, "homeserver"]));
    expect(lanes).toHaveLength(devices.size + 1);

    const network = run.trace.filter((e) => NETWORK.has(e.kind));
    const arrows = all("svg.sequence [data-arrow]");
    expect(arrows).toHaveLength(network.length);
    expect(arrows.map((a) => a.getAttribute("data-arrow"))).toEqual(network.map((e) => e.kind));
    const failed = run.trace.filter((e) => e.kind === "answer" && !e.ok).length;
    expect(failed).toBeGreaterThan(0);
    expect(all("svg.sequence .arrow.failed .cross")).toHaveLength(failed);
    expect(all("svg.sequence [data-note='narration']")).toHaveLength(
      run.trace.filter((e) => e.kind === "narration").length,
    );
  });

  it("shows every machine's states in order, ending in its final state", () => {
    // Each machine's states, and the story time of each change: the clock of the last narration.
    const expected = new Map<string, string[]>();
    const times = new Map<string, string[]>();
    let at = "";
    for (const e of run.trace) {
      if (e.kind === "narration") at = e.at;
      if (e.kind !== "state") continue;
      const key = `${e.owner} ${e.peer}`;
      expected.set(key, [...(expected.get(key) ?? [e.from]), e.to]);
      times.set(key, [...(times.get(key) ?? []), at]);
    }
    const sections = all("#machines section[data-machine]");
    expect(sections).toHaveLength(expected.size);
    for (const section of sections) {
      const owner = section.getAttribute("data-owner")?.split("/")[0];
      const key = `${owner} ${section.getAttribute("data-peer")}`;
      const states = expected.get(key);
      expect(states, section.getAttribute("data-machine") ?? "").toBeDefined();
      const steps = all("ol.timeline > li", section);
      expect(steps.map((li) => li.getAttribute("data-state"))).toEqual(states);
      expect(steps.slice(1).map((li) => li.querySelector("time")?.textContent)).toEqual(
        times.get(key),
      );
      const final = states?.[states.length - 1];
      expect(section.getAttribute("data-final-state")).toBe(final);
      expect(section.querySelector("h3 .final")?.textContent).toBe(`ends in ${final}`);
    }
  });

  it("draws the diagram at a real size with no text outside its box", () => {
    const svg = doc.querySelector<SVGSVGElement>("svg.sequence");
    const box = svg?.getBoundingClientRect();
    expect(box?.width).toBeGreaterThan(800);
    expect(box?.height).toBeGreaterThan(2000);
    for (const lane of all("svg.sequence g.lane")) {
      const laneBox = (lane as SVGGElement).getBBox();
      expect(laneBox.width * laneBox.height, lane.getAttribute("data-lane") ?? "").toBeGreaterThan(
        0,
      );
    }
    const width = svg?.viewBox.baseVal.width ?? 0;
    for (const text of all("svg.sequence text") as SVGTextElement[]) {
      const b = text.getBBox();
      expect(b.width, text.textContent ?? "").toBeGreaterThan(0);
      expect(b.x >= 0 && b.x + b.width <= width, text.textContent ?? "").toBe(true);
    }
    // Each note's text sits inside its rectangle: the widths estimated for monospace hold.
    const notes = all("svg.sequence g[data-note]");
    expect(notes.length).toBeGreaterThan(20);
    for (const note of notes) {
      const rect = note.querySelector("rect")?.getBBox();
      for (const text of all("text", note) as SVGTextElement[]) {
        const b = text.getBBox();
        const inside =
          rect !== undefined &&
          b.x >= rect.x &&
          b.y >= rect.y - 0.5 &&
          b.x + b.width <= rect.x + rect.width &&
          b.y + b.height <= rect.y + rect.height + 0.5;
        expect(inside, `"${text.textContent}" overflows its note`).toBe(true);
      }
    }
  });

  it("photographs the page: its top, the machines, the diagram and the failed send", async () => {
    const shots: string[] = [];
    for (const [name, target] of [
      ["demo-page-top", doc.body],
      ["demo-page-machines", doc.getElementById("machines")],
      ["demo-page-sequence", doc.getElementById("sequence")],
      ["demo-page-failure", doc.querySelector("svg.sequence .arrow.failed")],
    ] as const) {
      expect(target, name).not.toBeNull();
      target?.scrollIntoView({ block: name === "demo-page-failure" ? "center" : "start" });
      const shot = await page.screenshot({
        element: frame,
        path: `../__screenshots__/${name}.png`,
        base64: true,
      });
      expect(shot.path).toMatch(new RegExp(`test/browser/__screenshots__/${name}\\.png$`));
      shots.push(shot.base64);
    }
    const frameBox = frame.getBoundingClientRect();
    for (const base64 of shots) {
      const png = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      expect([...png.slice(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
      const view = new DataView(png.buffer);
      const [width, height] = [view.getUint32(16), view.getUint32(20)];
      // The orchestrator may scale the frame down to fit its window, but not distort it.
      expect(width).toBeGreaterThan(frameBox.width / 2);
      expect(width / height).toBeCloseTo(frameBox.width / frameBox.height, 1);
      // A page of text, not a blank frame: a blank one of this size compresses to a few KB.
      expect(png.length).toBeGreaterThan(40_000);
    }
    expect(new Set(shots).size).toBe(4);
  });
});
