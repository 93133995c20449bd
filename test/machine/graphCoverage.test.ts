import { describe, expect, it } from "vitest";
import type { AnyStateNode, AnyTransitionDefinition } from "xstate";
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from "xstate/graph";
import type { PeerContext } from "../../src/machine/peerContext.js";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { peerMachine } from "../../src/machine/peerMachine.js";
import { initialPeerSnapshot, type PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { type ModelState, PeerModel } from "../model/referenceModel.js";
import { HOUR } from "./peerHarness.js";

/*
 * Tests driven by the machine's own graph: xstate/graph explores every state the machine can
 * reach under a family of events, and we check that the exploration touches every state node
 * and every transition written in the machine, and that replaying each shortest path through
 * the public `stepPeer` lands exactly where the graph says.
 */

type Snapshot = ReturnType<typeof peerMachine.resolveState>;

const latest = (c: PeerContext): number =>
  Math.max(
    0,
    c.unreachableSince ?? 0,
    c.lastNoticeReceivedAt ?? 0,
    c.lastReplyAt ?? 0,
    c.claimFailedAt ?? 0,
  );

/**
 * The events worth trying in a state: current and stale ids; a reading equal to the latest one
 * seen, two hours later (past every wait), and three hours earlier (a clock that went back).
 * Readings on a one-hour lattice keep the explored state space finite and exact.
 */
function eventsFor(snapshot: Snapshot): PeerEvent[] {
  const c = snapshot.context;
  const now = latest(c);
  const later = now + 2 * HOUR;
  return [
    { type: "ESTABLISH_FAILED", at: now },
    { type: "SESSION_ESTABLISHED", at: now, origin: "inbound" },
    { type: "SESSION_ESTABLISHED", at: now, origin: "outbound" },
    { type: "SESSION_LOST", at: now },
    { type: "NOTICE_SENT", at: now, noticeId: c.noticeId },
    { type: "NOTICE_SENT", at: now, noticeId: c.noticeId + 1 },
    { type: "NOTICE_SEND_FAILED", at: now, noticeId: c.noticeId },
    { type: "NOTICE_SEND_FAILED", at: now, noticeId: c.noticeId + 1 },
    { type: "NOTICE_RECEIVED", at: now },
    { type: "NOTICE_RECEIVED", at: later },
    { type: "NOTICE_RECEIVED", at: now - 3 * HOUR },
    { type: "DUMMY_QUEUED", at: now, replyId: c.replyId },
    { type: "DUMMY_QUEUED", at: now, replyId: c.replyId + 1 },
    { type: "REPLY_SUCCEEDED", at: now, replyId: c.replyId },
    { type: "REPLY_SUCCEEDED", at: now, replyId: c.replyId + 1 },
    { type: "REPLY_FAILED", at: now, replyId: c.replyId },
    { type: "REPLY_FAILED", at: now, replyId: c.replyId + 1 },
    { type: "RESUMED", at: now },
  ];
}

/** Bounds on episodes, replies and the clock, so the exploration ends. */
const withinBounds = (snapshot: Snapshot, event: PeerEvent): boolean =>
  snapshot.context.noticeId <= 2 && snapshot.context.replyId <= 2 && Math.abs(event.at) <= 6 * HOUR;

const serializeState = (snapshot: Snapshot): string =>
  JSON.stringify([snapshot.value, snapshot.context]);

const traversal = {
  events: eventsFor,
  filterEvents: withinBounds,
  serializeState,
  limit: 1_000_000,
};

function allStateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allStateNodes(child))];
}

const nodes = allStateNodes(peerMachine.root);
const leafIds = nodes.filter((n) => Object.keys(n.states).length === 0).map((n) => n.id);
const allTransitions: AnyTransitionDefinition[] = nodes.flatMap((n) =>
  [...n.transitions.values()].flat(),
);
const guardName = (t: AnyTransitionDefinition): string =>
  t.guard === undefined ? "" : ` [${typeof t.guard === "string" ? t.guard : "composed guard"}]`;
const label = (t: AnyTransitionDefinition): string =>
  `${t.source.id} --${t.eventType}${guardName(t)}--> ${t.target?.map((s) => s.id).join(",") ?? "(self)"}`;

describe("the machine's graph", () => {
  const adjacency = getAdjacencyMap(peerMachine, traversal);
  const paths = getShortestPaths(peerMachine, traversal);

  it("has the states and transitions this test expects to cover", () => {
    expect(Object.keys(adjacency).length).toBeLessThan(1_000_000);
    expect(leafIds.length).toBeGreaterThanOrEqual(8);
    expect(allTransitions.length).toBeGreaterThan(20);
  });

  it("exploration takes every transition written in the machine", () => {
    const taken = new Set<AnyTransitionDefinition>();
    for (const { state, event } of adjacencyMapToArray(adjacency)) {
      for (const t of peerMachine.getTransitionData(state, event)) taken.add(t);
    }
    const missing = allTransitions.filter((t) => !taken.has(t)).map(label);
    expect(missing).toEqual([]);
  });

  it("shortest paths reach every leaf state node", () => {
    const reached = new Set<string>();
    for (const path of paths) {
      for (const node of path.state._nodes) reached.add(node.id);
    }
    expect(leafIds.filter((id) => !reached.has(id))).toEqual([]);
  });

  it("replaying every shortest path through stepPeer (and the reference model) ends in the graph's state", () => {
    expect(paths.length).toBe(Object.keys(adjacency).length);
    // Shortest paths share prefixes: a path is replayed from the last state on it that an
    // earlier replay already reached (and checked), with the model state it had there.
    const replayed = new Map<string, { snapshot: PeerSnapshot; model: ModelState }>();
    for (const path of paths) {
      // The first step is XState's own init event, not one of ours.
      const keys = path.steps.map((step) => serializeState(step.state));
      let from = keys.length - 1;
      while (from > 0 && !replayed.has(keys[from] ?? "")) from -= 1;
      const start = from === 0 ? undefined : replayed.get(keys[from] ?? "");
      let snapshot = start?.snapshot ?? initialPeerSnapshot;
      const model = new PeerModel(start?.model);
      for (const step of path.steps.slice(from + 1)) {
        const result = stepPeer(snapshot, step.event);
        // The independent reference model must agree on every step of every path.
        expect(model.apply(step.event)).toEqual({
          kind: result.kind,
          commands: result.kind === "applied" ? result.commands : [],
        });
        expect(
          result.kind,
          `${JSON.stringify(step.event)} from ${JSON.stringify(snapshot.value)}`,
        ).not.toBe("rejected");
        snapshot = result.snapshot;
        expect(snapshot.value).toEqual(step.state.value);
        expect(snapshot.context).toEqual(step.state.context);
        replayed.set(serializeState(step.state), { snapshot, model: model.state() });
      }
      expect(snapshot.value).toEqual(path.state.value);
      expect(snapshot.context).toEqual(path.state.context);
    }
    // Every state but the initial one was reached by a replay through stepPeer.
    expect(replayed.size).toBe(paths.length - 1);
  });
});
