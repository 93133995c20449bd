import { attributes, escapeHtml, inlineJson } from "./demoPageHtml.js";
import { isNetwork, lanesOf, machineTimelines } from "./demoPageModel.js";
import { sequenceSvg } from "./demoPageSequence.js";
import { stateTimelines } from "./demoPageTimelines.js";
import type { TraceEntry } from "./demoTrace.js";

/*
 * `npm run demo -- --html <file>` and docs/diagrams/demo.html: one run of the demo as a page
 * that needs nothing else (CSS and SVG inline, no script, no network). Pure, so it renders in
 * the browser too. The run itself is embedded as JSON (`#demo-data`) for tests and tools.
 */

/** A check of the story (examples/demo/noOlmStory.ts `Check`, restated so this file needs no Node). */
export interface PageCheck {
  readonly what: string;
  readonly ok: boolean;
}

export interface PageRun {
  readonly checks: readonly PageCheck[];
  readonly trace: readonly TraceEntry[];
}

const STYLE = `
:root {
  color-scheme: light;
  --mono: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --pass: #1e7b34; --fail: #b3261e;
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 var(--sans); color: var(--ink); background: #f6f7f9; }
header.page, main, footer { max-width: 1320px; margin: 0 auto; padding: 0 24px; }
header.page { padding-top: 28px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 8px; font-size: 19px; }
h3 { margin: 0 0 10px; font-size: 15px; font-weight: 600; }
code, .badge, time { font-family: var(--mono); font-size: 13px; }
p { margin: 0 0 10px; }
.lead { color: var(--muted); max-width: 80ch; }
.verdict { display: inline-block; margin: 10px 0 0; padding: 6px 14px; border-radius: 999px;
  font-weight: 600; color: #fff; }
.verdict.pass { background: var(--pass); }
.verdict.fail { background: var(--fail); }
nav.toc { margin: 14px 0 0; display: flex; gap: 18px; flex-wrap: wrap; font-size: 14px; }
a { color: #1f5fbf; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 14px 0 0; }
.facts div { display: flex; gap: 6px; align-items: baseline; }
.facts dt { color: var(--muted); font-size: 13px; }
.facts dd { margin: 0; font-weight: 600; }
main > section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 20px 0; }
ol.checks { margin: 0; padding: 0; list-style: none; columns: 2 420px; column-gap: 28px; }
ol.checks li { display: flex; gap: 8px; break-inside: avoid; padding: 3px 0; }
ol.checks .mark { flex: none; width: 20px; height: 20px; border-radius: 50%; color: #fff;
  font-size: 12px; line-height: 20px; text-align: center; margin-top: 1px; }
ol.checks li[data-ok="true"] .mark { background: var(--pass); }
ol.checks li[data-ok="false"] .mark { background: var(--fail); }
ol.checks li[data-ok="false"] { color: var(--fail); font-weight: 600; }
.machine { border-left: 4px solid var(--lane, var(--muted)); padding: 4px 0 4px 14px; margin: 16px 0; }
.machine .who { font-family: var(--mono); font-size: 14px; color: var(--lane, var(--ink)); }
.machine .for { color: var(--muted); font-weight: 400; }
.machine .final { margin-left: 10px; color: var(--muted); font-weight: 400; font-size: 13px; }
ol.timeline { display: flex; flex-wrap: wrap; gap: 10px 0; margin: 0; padding: 0; list-style: none; }
ol.timeline li { display: flex; flex-direction: column; align-items: flex-start; gap: 4px;
  padding: 0 10px 0 0; position: relative; }
ol.timeline li + li { padding-left: 24px; }
ol.timeline li + li::before { content: "→"; position: absolute; left: 3px; bottom: 1px;
  color: var(--muted); font-size: 16px; }
.cause { font-size: 12px; color: var(--muted); white-space: nowrap; }
.cause .event { font-family: var(--mono); font-weight: 600; text-decoration: none; }
.cause .event:hover { text-decoration: underline; }
.badge { display: inline-flex; border-radius: 6px; overflow: hidden; border: 1px solid var(--line);
  white-space: nowrap; }
.badge > span { padding: 2px 6px; }
.badge .sep { display: none; }
.badge .olm { background: #eceff1; }
.badge .reply { background: #fff; color: var(--muted); }
.badge .reply:not(:only-child) { border-left: 1px solid var(--line); }
.badge[data-olm="established"] .olm { background: #d8f0dd; color: #14532d; }
.badge[data-olm="noticePending"] .olm { background: #fff0c2; color: #6b4e00; }
.badge[data-olm="noticeDelivered"] .olm { background: #dbe7fb; color: #123a7a; }
.badge[data-olm="unreachable"] .olm { background: #fbdcd9; color: #7a1b13; }
.badge:not([data-reply="idle"]) .reply { background: #f1e4fa; color: #4a1a6b; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 22px; margin: 0 0 12px; padding: 0; list-style: none;
  font-size: 13px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend .swatch { width: 22px; height: 14px; border-radius: 3px; border: 1px solid; }
figure { margin: 0; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 28px; }
svg.sequence { display: block; font: 12px var(--mono); }
svg.sequence text { white-space: pre; fill: var(--ink); }
.lane .lifeline { stroke-width: 1.5; stroke-dasharray: 5 5; opacity: 0.55; }
.lane .head { fill-opacity: 0.08; stroke-width: 1.5; }
svg.sequence .head-label { text-anchor: middle; font-weight: 700; }
svg.sequence .arrow .label { text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 4px;
  stroke-linejoin: round; }
.arrow line { stroke: #37474f; stroke-width: 1.5; }
.arrow.sync line { stroke: #1f5fbf; }
svg.sequence .arrow.sync .label { fill: #123a7a; }
.arrow.reply line { stroke: #78909c; stroke-dasharray: 6 4; }
svg.sequence .arrow.reply .label { fill: var(--muted); }
.arrow.failed line { stroke: var(--fail); stroke-dasharray: 6 4; }
svg.sequence .arrow.failed .label { fill: var(--fail); font-weight: 700; }
.arrow .cross { stroke: var(--fail); stroke-width: 2.5; }
.head-call, .head-sync { stroke: none; }
.head-call { fill: #37474f; }
.head-sync { fill: #1f5fbf; }
.head-reply { fill: none; stroke: #78909c; stroke-width: 1.6; }
.note rect { stroke-width: 1.2; }
.narration rect { fill: #fff7d1; stroke: #d9b938; }
.state rect { fill: #fbfcfe; }
.hook rect { fill: #f4f4f6; stroke-dasharray: 4 3; }
svg.sequence .narration .text { font-weight: 600; }
svg.sequence .hook .text { fill: var(--muted); }
svg.sequence .narration .time { fill: #8a6d00; }
svg.sequence .state .who { fill: var(--muted); }
svg.sequence .state .to { font-weight: 700; }
svg.sequence .state .event { fill: #1f5fbf; }
.row:target rect { stroke-width: 3; }
.lane-tags rect { fill: #fff; stroke-width: 1; }
svg.sequence .lane-tags text { text-anchor: middle; font-size: 11px; font-weight: 700; }
`;

function checksSection(checks: readonly PageCheck[], allPassed: boolean): string {
  const passed = checks.filter((c) => c.ok).length;
  return [
    `<section${attributes({ id: "checks", "aria-labelledby": "checks-title", "data-all-passed": String(allPassed), "data-passed": passed, "data-total": checks.length })}>`,
    `<h2 id="checks-title">Checks: ${passed} of ${checks.length} passed</h2>`,
    `<p class="lead">What the story checked at each turn, in order; the demo exits 0 only if every one holds.</p>`,
    `<ol class="checks">`,
    ...checks.map(
      (c) =>
        `<li${attributes({ "data-check": "", "data-ok": String(c.ok) })}><span class="mark" aria-label="${c.ok ? "passed" : "failed"}">${c.ok ? "✓" : "✗"}</span><span>${escapeHtml(c.what)}</span></li>`,
    ),
    "</ol>",
    "</section>",
  ].join("\n");
}

function facts(run: PageRun): string {
  const times = run.trace.flatMap((e) => (e.kind === "narration" ? [e.at] : []));
  const count = (kind: TraceEntry["kind"]) => run.trace.filter((e) => e.kind === kind).length;
  const rows: [string, string][] = [
    ["devices", String(lanesOf(run.trace).length - 1)],
    ["requests", String(count("sendToDevice") + count("claimKeys"))],
    ["answers", String(count("answer"))],
    ["syncs with events", String(count("sync"))],
    ["state changes", String(count("state"))],
    ["machines", String(machineTimelines(run.trace).length)],
  ];
  if (times.length > 0) rows.push(["story time", `${times[0]} – ${times[times.length - 1]}`]);
  return `<dl class="facts">${rows.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join("")}</dl>`;
}

const LEGEND = [
  `<ul class="legend">`,
  `<li><svg width="34" height="10" aria-hidden="true"><g class="arrow call"><line x1="2" y1="5" x2="30" y2="5" marker-end="url(#head-call)"/></g></svg>request</li>`,
  `<li><svg width="34" height="10" aria-hidden="true"><g class="arrow reply"><line x1="2" y1="5" x2="30" y2="5" marker-end="url(#head-reply)"/></g></svg>answer</li>`,
  `<li><svg width="34" height="12" aria-hidden="true"><g class="arrow failed"><line x1="2" y1="6" x2="28" y2="6"/><path class="cross" d="M23,1 l10,10 m0,-10 l-10,10"/></g></svg>failed request</li>`,
  `<li><svg width="34" height="10" aria-hidden="true"><g class="arrow sync"><line x1="2" y1="5" x2="30" y2="5" marker-end="url(#head-sync)"/></g></svg>/sync with to-device events</li>`,
  `<li><span class="swatch" style="background:#fff7d1;border-color:#d9b938"></span>narration</li>`,
  `<li><span class="swatch" style="background:#fbfcfe;border-color:#37474f"></span>state change (owner's colour)</li>`,
  `<li><span class="swatch" style="background:#f4f4f6;border-color:#78909c;border-style:dashed"></span>hook</li>`,
  "</ul>",
].join("");

/** The whole page, a complete HTML document. */
export function demoPage(run: PageRun): string {
  const allPassed = run.checks.length > 0 && run.checks.every((c) => c.ok);
  const failed = run.checks.filter((c) => !c.ok).length;
  const verdict = allPassed
    ? `All ${run.checks.length} checks passed`
    : run.checks.length === 0
      ? "No checks ran"
      : `${failed} of ${run.checks.length} checks FAILED`;
  const arrows = run.trace.filter(isNetwork).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The m.no_olm demo, one run · matrix-key-withholding</title>
<style>${STYLE}</style>
</head>
<body>
<header class="page">
<h1>The m.no_olm demo, one run</h1>
<p class="lead">Three simulated devices with real libolm accounts and an in-memory homeserver, as
<code>npm run demo</code> runs them: what crossed the network, what each device's machine for each
peer did, and whether the story went as the spec says. txnIds are numbered in order of first use
and no key material is shown, so every run draws the same page.</p>
<p${attributes({ id: "verdict", class: `verdict ${allPassed ? "pass" : "fail"}`, role: "status", "data-all-passed": String(allPassed) })}>${escapeHtml(verdict)}</p>
${facts(run)}
<nav class="toc" aria-label="sections"><a href="#checks">Checks</a><a href="#machines">Machines over time</a><a href="#sequence">Sequence diagram</a></nav>
</header>
<main>
${checksSection(run.checks, allPassed)}
<section id="machines" aria-labelledby="machines-title">
<h2 id="machines-title">Each device's machines over time</h2>
<p class="lead">A device keeps one machine a peer device; its state is <code>olm/reply</code>: the Olm
channel to that peer and the answer to that peer's last m.no_olm. Every machine that changed
state is listed with the event that moved it and the story time (the clock at the last narration);
click an event to see it in the diagram.</p>
${stateTimelines(run.trace)}
</section>
<section id="sequence" aria-labelledby="sequence-title-h">
<h2 id="sequence-title-h">Sequence diagram</h2>
${LEGEND}
<figure>
<div class="scroll">
${sequenceSvg(run.trace)}
</div>
<figcaption>${escapeHtml(`${run.trace.length} trace entries: ${arrows} arrows across the network, the rest notes.`)}</figcaption>
</figure>
</section>
</main>
<footer>Drawn by examples/demo/demoPage.ts from the demo's trace (examples/demo/demoTrace.ts).</footer>
<script type="application/json" id="demo-data">${inlineJson({ checks: run.checks.map(({ what, ok }) => ({ what, ok })), trace: run.trace })}</script>
</body>
</html>
`;
}
