import { attributes, escapeHtml } from "./demoPageHtml.js";
import { HOMESERVER, type Lane, lanesOf, ownerLane, storyTimes } from "./demoPageModel.js";
import type { TraceEntry } from "./demoTrace.js";

/*
 * The sequence diagram of a trace as inline SVG: a lane per device and the homeserver, an arrow
 * per request, answer and /sync, narration across all lanes and state changes and hooks as notes
 * over their owner. Text is monospace so its width can be known without measuring it; the page's
 * stylesheet (examples/demo/demoPage.ts) gives the classes their look.
 */

// Monospace at 12px is 7.2px a character in the usual fonts; a little more so text never overflows.
const CHAR_WIDTH = 7.4;
const LINE = 16;
const MARGIN = 12;
const PAD = 8;
const HEADER_HEIGHT = 32;
const NARRATION_MIN_CHARS = 60;

type ArrowStyle = "call" | "sync" | "reply" | "failed";

type Item =
  | {
      readonly kind: "arrow";
      readonly entry: TraceEntry["kind"];
      readonly from: string;
      readonly to: string;
      readonly style: ArrowStyle;
      readonly lines: readonly string[];
    }
  | {
      readonly kind: "note";
      readonly note: "state" | "hook";
      readonly lane: string;
      readonly lines: readonly string[];
      /** A class a line, for the stylesheet. */
      readonly classes: readonly (string | undefined)[];
      readonly data: Readonly<Record<string, string>>;
    }
  | { readonly kind: "narration"; readonly at: string; readonly text: string };

const width = (line: string): number => [...line].length * CHAR_WIDTH;
const widest = (lines: readonly string[]): number => Math.max(0, ...lines.map(width));
const round = (n: number): number => Math.round(n * 10) / 10;

function itemOf(entry: TraceEntry, laneNames: readonly string[]): Item {
  const owner = (name: string) => ownerLane(name, laneNames) ?? name;
  switch (entry.kind) {
    case "narration":
      return { kind: "narration", at: entry.at, text: entry.text.trim() };
    case "sendToDevice":
      return {
        kind: "arrow",
        entry: entry.kind,
        from: entry.from,
        to: HOMESERVER,
        style: "call",
        lines: [`PUT /sendToDevice/${entry.eventType}/${entry.txnId}`, ...entry.messages],
      };
    case "claimKeys":
      return {
        kind: "arrow",
        entry: entry.kind,
        from: entry.from,
        to: HOMESERVER,
        style: "call",
        lines: [`POST /keys/claim for ${entry.devices.join(", ")}`],
      };
    case "answer":
      return {
        kind: "arrow",
        entry: entry.kind,
        from: HOMESERVER,
        to: entry.to,
        style: entry.ok ? "reply" : "failed",
        lines: [entry.text],
      };
    case "sync":
      return {
        kind: "arrow",
        entry: entry.kind,
        from: HOMESERVER,
        to: entry.device,
        style: "sync",
        lines: ["/sync to_device:", ...entry.events],
      };
    case "state":
      return {
        kind: "note",
        note: "state",
        lane: owner(entry.owner),
        lines: [`machine for ${entry.peer}`, entry.from, `→ ${entry.to}`, `on ${entry.event}`],
        classes: ["who", undefined, "to", "event"],
        data: {
          "data-machine": `${owner(entry.owner)} → ${entry.peer}`,
          "data-state": entry.to,
          "data-event": entry.event,
        },
      };
    case "hook":
      return {
        kind: "note",
        note: "hook",
        lane: owner(entry.owner),
        lines: wrap(`hook ${entry.text}`, 40),
        classes: [],
        data: {},
      };
  }
}

/** Greedy word wrap; a word longer than `chars` gets a line of its own. */
function wrap(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= chars) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** x of each lane: wide enough for every header, note and arrow label, and no wider. */
function laneXs(
  lanes: readonly Lane[],
  items: readonly Item[],
): { xs: number[]; halves: number[] } {
  const index = new Map(lanes.map((l, i) => [l.name, i]));
  const halves = lanes.map((l) => (width(l.label) + 2 * PAD + 8) / 2);
  for (const item of items) {
    const i = item.kind === "note" ? index.get(item.lane) : undefined;
    if (item.kind === "note" && i !== undefined)
      halves[i] = Math.max(halves[i] ?? 0, (widest(item.lines) + 2 * PAD) / 2);
  }
  // A note never covers its neighbour's lifeline.
  const gaps = lanes.slice(1).map((_, i) => (halves[i] ?? 0) + (halves[i + 1] ?? 0) + 16);
  const spans = items
    .flatMap((item) => {
      if (item.kind !== "arrow") return [];
      const [a, b] = [index.get(item.from) ?? 0, index.get(item.to) ?? 0].sort((p, q) => p - q);
      return [{ a: a ?? 0, b: b ?? 0, need: widest(item.lines) + 3 * PAD }];
    })
    .sort((p, q) => p.b - p.a - (q.b - q.a));
  for (const { a, b, need } of spans) {
    const have = gaps.slice(a, b).reduce((s, g) => s + g, 0);
    for (let g = a; g < b && have < need; g++) gaps[g] = (gaps[g] ?? 0) + (need - have) / (b - a);
  }
  const xs = [MARGIN + (halves[0] ?? 0)];
  gaps.forEach((g, i) => {
    xs.push((xs[i] ?? 0) + g);
  });
  return { xs, halves };
}

/** One `<text>` a line; `extra[k]` is an added class of line k, `prefix` a bold start of line 0. */
function textLines(
  x: number,
  top: number,
  lines: readonly string[],
  className: string,
  extra: readonly (string | undefined)[] = [],
  prefix = "",
): string {
  return lines
    .map((line, k) => {
      const classes = [className, extra[k]].filter((c) => c !== undefined).join(" ");
      const at = { class: classes, x: round(x), y: round(top + LINE * (k + 1) - 4) };
      const head =
        k === 0 && prefix !== "" && line.startsWith(prefix)
          ? `<tspan class="time">${escapeHtml(prefix)}</tspan>${escapeHtml(line.slice(prefix.length))}`
          : escapeHtml(line);
      return `<text${attributes(at)}>${head}</text>`;
    })
    .join("");
}

/** The diagram as an `<svg>` element (no XML prolog: it is meant to sit inside an HTML page). */
export function sequenceSvg(trace: readonly TraceEntry[]): string {
  const lanes = lanesOf(trace);
  const laneNames = lanes.map((l) => l.name);
  const items = trace.map((entry) => itemOf(entry, laneNames));
  const { xs, halves } = laneXs(lanes, items);
  const xOf = new Map(lanes.map((l, i) => [l.name, xs[i] ?? 0]));
  const colorOf = new Map(lanes.map((l) => [l.name, l.color]));
  const left = MARGIN;
  const right = (xs[xs.length - 1] ?? 0) + (halves[halves.length - 1] ?? 0);
  const narrationChars = Math.max(
    NARRATION_MIN_CHARS,
    Math.floor((right - left - 2 * PAD) / CHAR_WIDTH),
  );
  const times = storyTimes(trace);

  const rows: string[] = [];
  let y = MARGIN + HEADER_HEIGHT + 16;
  let tagged = y;
  // In a long diagram the headers scroll away: the lane names again every so often.
  const tags = () => {
    rows.push(
      `<g class="lane-tags" aria-hidden="true">`,
      ...lanes.map((lane, i) => {
        const x = xs[i] ?? 0;
        const w = width(lane.label) + PAD;
        return (
          `<rect${attributes({ x: round(x - w / 2), y: round(y), width: round(w), height: LINE + 2, rx: 8, stroke: lane.color })}/>` +
          `<text${attributes({ x: round(x), y: round(y + LINE - 2), fill: lane.color })}>${escapeHtml(lane.label)}</text>`
        );
      }),
      "</g>",
    );
    y += LINE + 12;
    tagged = y;
  };
  items.forEach((item, step) => {
    if (item.kind === "narration" && y - tagged > 900) tags();
    const at = times[step];
    const row = attributes({ id: `step-${step}`, "data-step": step, "data-at": at });
    if (item.kind === "arrow") {
      const [x1, x2] = [xOf.get(item.from) ?? 0, xOf.get(item.to) ?? 0];
      const lineY = y + item.lines.length * LINE + 6;
      const direction = Math.sign(x2 - x1);
      const end = x2 - direction * (item.style === "failed" ? 0 : 2);
      const cross =
        item.style === "failed"
          ? `<path class="cross" d="M${round(x2 - 5)},${round(lineY - 5)} l10,10 m0,-10 l-10,10"/>`
          : "";
      rows.push(
        `<g${row}${attributes({ class: `row arrow ${item.style}`, "data-arrow": item.entry, "data-from": item.from, "data-to": item.to })}>`,
        textLines((x1 + x2) / 2, y, item.lines, "label"),
        `<line${attributes({ x1: round(x1), y1: round(lineY), x2: round(end), y2: round(lineY), "marker-end": item.style === "failed" ? undefined : `url(#head-${item.style})` })}/>`,
        cross,
        "</g>",
      );
      y = lineY + 14;
      return;
    }
    if (item.kind === "narration") {
      const lines = wrap(`${item.at}  ${item.text}`, narrationChars);
      const height = lines.length * LINE + PAD;
      rows.push(
        `<g${row}${attributes({ class: "row note narration", "data-note": "narration" })}>`,
        `<rect${attributes({ x: left, y: round(y), width: round(right - left), height, rx: 4 })}/>`,
        textLines(left + PAD, y + PAD / 2, lines, "text", [], item.at),
        "</g>",
      );
      y += height + 10;
      return;
    }
    const x = xOf.get(item.lane) ?? 0;
    const noteWidth = widest(item.lines) + 2 * PAD;
    const height = item.lines.length * LINE + PAD;
    rows.push(
      `<g${row}${attributes({ class: `row note ${item.note}`, "data-note": item.note, "data-owner": item.lane, ...item.data })}>`,
      `<rect${attributes({ x: round(x - noteWidth / 2), y: round(y), width: round(noteWidth), height, rx: 4, stroke: colorOf.get(item.lane) })}/>`,
      textLines(x - noteWidth / 2 + PAD, y + PAD / 2, item.lines, "text", item.classes),
      "</g>",
    );
    y += height + 10;
  });

  const bottom = y + 6;
  const height = bottom + HEADER_HEIGHT + MARGIN;
  const header = (lane: Lane, x: number, top: number) => {
    const w = width(lane.label) + 2 * PAD;
    return [
      `<rect${attributes({ class: "head", x: round(x - w / 2), y: round(top), width: round(w), height: HEADER_HEIGHT, rx: 6, stroke: lane.color, fill: lane.color })}/>`,
      `<text${attributes({ class: "head-label", x: round(x), y: round(top + HEADER_HEIGHT / 2 + 4), fill: lane.color })}>${escapeHtml(lane.label)}</text>`,
    ].join("");
  };
  const laneGroups = lanes.map((lane, i) => {
    const x = xs[i] ?? 0;
    return [
      `<g${attributes({ class: "lane", "data-lane": lane.name })}>`,
      `<line${attributes({ class: "lifeline", x1: round(x), y1: MARGIN + HEADER_HEIGHT, x2: round(x), y2: round(bottom), stroke: lane.color })}/>`,
      header(lane, x, MARGIN),
      header(lane, x, bottom),
      "</g>",
    ].join("");
  });
  const svgWidth = Math.ceil(right + MARGIN);
  const svgHeight = Math.ceil(height);
  const marker = (name: string, path: string) =>
    `<marker id="head-${name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path class="head-${name}" d="${path}"/></marker>`;
  return [
    `<svg${attributes({ class: "sequence", "aria-labelledby": "sequence-title", width: svgWidth, height: svgHeight, viewBox: `0 0 ${svgWidth} ${svgHeight}` })}>`,
    `<title id="sequence-title">Sequence diagram of the demo run: ${lanes.length} lanes, ${items.filter((i) => i.kind === "arrow").length} arrows</title>`,
    "<defs>",
    marker("call", "M0,0 L10,5 L0,10 z"),
    marker("sync", "M0,0 L10,5 L0,10 z"),
    marker("reply", "M0,1 L9,5 L0,9"),
    "</defs>",
    ...laneGroups,
    ...rows,
    "</svg>",
  ].join("\n");
}
