import { attributes, escapeHtml } from "./demoPageHtml.js";
import { lanesOf, type MachineTimeline, machineTimelines } from "./demoPageModel.js";
import type { TraceEntry } from "./demoTrace.js";

/*
 * Each owner→peer machine's states over the run, as an ordered list a machine: its first state,
 * then every state it entered with the event that caused it and the story time. Each change links
 * to its note in the sequence diagram (`#step-N`).
 */

/** `noticePending/idle` as two parts the stylesheet colours by their value (`data-olm`, `data-reply`). */
function stateBadge(state: string): string {
  const slash = state.indexOf("/");
  const [olm, reply] = slash < 0 ? [state, ""] : [state.slice(0, slash), state.slice(slash + 1)];
  return [
    `<span${attributes({ class: "badge", "data-olm": olm, "data-reply": reply })}>`,
    `<span class="olm">${escapeHtml(olm)}</span>`,
    reply === "" ? "" : `<span class="sep">/</span><span class="reply">${escapeHtml(reply)}</span>`,
    "</span>",
  ].join("");
}

function machineSection(machine: MachineTimeline, color: string | undefined): string {
  const name = `${machine.owner} → ${machine.peer}`;
  const items = [
    `<li${attributes({ class: "step initial", "data-state": machine.initial, "data-initial": "" })}>` +
      `<span class="cause">first state</span>${stateBadge(machine.initial)}</li>`,
    ...machine.changes.map(
      (change) =>
        `<li${attributes({ class: "step", "data-state": change.to, "data-event": change.event, "data-at": change.at })}>` +
        `<span class="cause"><a${attributes({ href: `#step-${change.step}`, class: "event" })}>${escapeHtml(change.event)}</a>` +
        (change.at === undefined ? "" : ` <time>${escapeHtml(change.at)}</time>`) +
        `</span>${stateBadge(change.to)}</li>`,
    ),
  ];
  return [
    `<section${attributes({
      class: "machine",
      "data-machine": name,
      "data-owner": machine.owner,
      "data-peer": machine.peer,
      "data-final-state": machine.final,
      style: color === undefined ? undefined : `--lane: ${color}`,
    })}>`,
    `<h3><span class="who">${escapeHtml(machine.owner)}</span><span class="for">'s machine for</span> <span class="who">${escapeHtml(machine.peer)}</span>`,
    ` <span class="final">ends in ${stateBadge(machine.final)}</span></h3>`,
    `<ol class="timeline" aria-label="${escapeHtml(`states of ${name}`)}">${items.join("")}</ol>`,
    "</section>",
  ].join("\n");
}

/** One section a machine that changed state, in order of its first change. */
export function stateTimelines(trace: readonly TraceEntry[]): string {
  const colors = new Map(lanesOf(trace).map((l) => [l.name, l.color]));
  const machines = machineTimelines(trace);
  if (machines.length === 0) return `<p class="empty">No machine changed state.</p>`;
  return machines.map((m) => machineSection(m, colors.get(m.owner))).join("\n");
}
