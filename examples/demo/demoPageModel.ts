import type { TraceEntry } from "./demoTrace.js";

/*
 * What examples/demo/demoPage.ts draws, read off a trace: the lanes of the sequence diagram,
 * the story time of each entry, and each owner→peer machine's states in order.
 */

/** The homeserver's lane name; a device's lane is named after the device (`alice/ALICEPHONE`). */
export const HOMESERVER = "homeserver";

export interface Lane {
  readonly name: string;
  readonly label: string;
  readonly color: string;
}

// One colour a device, in order of appearance; the homeserver is grey.
const DEVICE_COLORS = ["#1f5fbf", "#2e7d32", "#b3261e", "#8e24aa", "#ef6c00", "#00838f"];
const HOMESERVER_COLOR = "#546e7a";

/** The entries that crossed the network: each is drawn as one arrow. */
export const isNetwork = (
  entry: TraceEntry,
): entry is Extract<TraceEntry, { kind: "sendToDevice" | "claimKeys" | "answer" | "sync" }> =>
  entry.kind === "sendToDevice" ||
  entry.kind === "claimKeys" ||
  entry.kind === "answer" ||
  entry.kind === "sync";

/** The device an entry's arrow starts or ends at (the homeserver is the other end). */
export function deviceOf(entry: TraceEntry): string | undefined {
  switch (entry.kind) {
    case "sendToDevice":
    case "claimKeys":
      return entry.from;
    case "answer":
      return entry.to;
    case "sync":
      return entry.device;
    default:
      return undefined;
  }
}

/**
 * The lanes, as in docs/diagrams/demo-sequence.md: the first device to use the network left of
 * the homeserver, every other device right of it, in order of appearance.
 */
export function lanesOf(trace: readonly TraceEntry[]): Lane[] {
  const devices: string[] = [];
  for (const entry of trace) {
    const device = deviceOf(entry);
    if (device !== undefined && !devices.includes(device)) devices.push(device);
  }
  // An owner of a state change or hook that never used the network still gets a lane.
  for (const entry of trace) {
    if (
      (entry.kind === "state" || entry.kind === "hook") &&
      ownerLane(entry.owner, devices) === undefined
    )
      devices.push(entry.owner);
  }
  const lanes = devices.map((name, i) => ({
    name,
    label: name,
    color: DEVICE_COLORS[i % DEVICE_COLORS.length] ?? HOMESERVER_COLOR,
  }));
  const homeserver = { name: HOMESERVER, label: "homeserver (double)", color: HOMESERVER_COLOR };
  const [first, ...rest] = lanes;
  return first === undefined ? [homeserver] : [first, homeserver, ...rest];
}

/** State changes and hooks name their owner by user (`alice`); lanes are devices. */
export function ownerLane(owner: string, laneNames: readonly string[]): string | undefined {
  return laneNames.find((name) => name === owner || name.split("/")[0] === owner);
}

/** For each entry, the time of the latest narration at or before it (undefined before any). */
export function storyTimes(trace: readonly TraceEntry[]): (string | undefined)[] {
  let at: string | undefined;
  return trace.map((entry) => {
    if (entry.kind === "narration") at = entry.at;
    return at;
  });
}

export interface StateChange {
  /** Index of the entry in the trace. */
  readonly step: number;
  readonly at: string | undefined;
  readonly from: string;
  readonly to: string;
  readonly event: string;
}

export interface MachineTimeline {
  /** The owner's device (`alice/ALICEPHONE`), or the owner as the trace names it. */
  readonly owner: string;
  readonly peer: string;
  readonly initial: string;
  readonly changes: readonly StateChange[];
  readonly final: string;
}

/** Every owner→peer machine that changed state, in order of its first change. */
export function machineTimelines(trace: readonly TraceEntry[]): MachineTimeline[] {
  const laneNames = lanesOf(trace).map((l) => l.name);
  const times = storyTimes(trace);
  const machines = new Map<string, { owner: string; peer: string; changes: StateChange[] }>();
  trace.forEach((entry, step) => {
    if (entry.kind !== "state") return;
    const owner = ownerLane(entry.owner, laneNames) ?? entry.owner;
    const key = `${owner}\n${entry.peer}`;
    const machine = machines.get(key) ?? { owner, peer: entry.peer, changes: [] };
    machines.set(key, machine);
    const { from, to, event } = entry;
    machine.changes.push({ step, at: times[step], from, to, event });
  });
  return [...machines.values()].map((m) => ({
    ...m,
    initial: m.changes[0]?.from ?? "",
    final: m.changes[m.changes.length - 1]?.to ?? "",
  }));
}
