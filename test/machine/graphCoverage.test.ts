import { describe, expect, it } from "vitest";
import { type AnyStateNode, type AnyTransitionDefinition, initialTransition } from "xstate";
import { type AdjacencyValue, adjacencyMapToArray, getAdjacencyMap } from "xstate/graph";
import type { PeerContext } from "../../src/machine/peerContext.js";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { peerMachine } from "../../src/machine/peerMachine.js";
import { initialPeerSnapshot, type PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { type ModelState, PeerModel } from "../../src/testing/model/referenceModel.js";
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
    // R5: a share's claim request (inside the backoff right after a failure, past it an hour
    // later), its failure, new keys for the device
    { type: "CLAIM_REQUESTED", at: now },
    { type: "CLAIM_REQUESTED", at: later },
    { type: "CLAIM_FAILED", at: now },
    { type: "DEVICE_CHANGED", at: now },
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

/** Bounds on episodes, replies, claim failures and the clock, so the exploration ends. */
const withinBounds = (snapshot: Snapshot, event: PeerEvent): boolean =>
  snapshot.context.noticeId <= 2 &&
  snapshot.context.replyId <= 2 &&
  // A failed share claim only in the first episode and before any reply (one is enough for
  // each transition it takes; more multiply the states without adding any).
  (event.type !== "CLAIM_FAILED" ||
    (snapshot.context.claimFailures === 0 &&
      snapshot.context.noticeId <= 1 &&
      snapshot.context.replyId === 0)) &&
  Math.abs(event.at) <= 6 * HOUR;

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

/**
 * The shortest paths from the initial state as a tree, breadth-first over the adjacency map: each
 * state (in the order reached) with the state and event just before it on a shortest path.
 * Computed from the one exploration, so the graph is explored once.
 */
function shortestPathTree(states: States, initialKey: string) {
  const parent = new Map<string, { readonly from: string; readonly event: PeerEvent }>();
  const order = [initialKey];
  const seen = new Set(order);
  for (let i = 0; i < order.length; i += 1) {
    const from = order[i] as string;
    for (const { event, state } of Object.values(states.get(from)?.transitions ?? {})) {
      const key = serializeState(state);
      if (seen.has(key)) continue;
      seen.add(key);
      order.push(key);
      parent.set(key, { from, event });
    }
  }
  return { order, parent };
}

/** The explored states by their serialized key. */
type States = ReadonlyMap<string, AdjacencyValue<Snapshot, PeerEvent>>;

describe("the machine's graph", () => {
  const adjacency = getAdjacencyMap(peerMachine, traversal);
  const states: States = new Map(Object.entries(adjacency));
  const initialKey = serializeState(initialTransition(peerMachine)[0]);
  const tree = shortestPathTree(states, initialKey);

  it("has the states and transitions this test expects to cover", () => {
    expect(states.size).toBeLessThan(1_000_000);
    expect(states.has(initialKey)).toBe(true);
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

  it("shortest paths reach every state explored, and so every leaf state node", () => {
    expect(tree.order.length).toBe(states.size);
    const reached = new Set<string>();
    for (const key of tree.order) {
      for (const node of states.get(key)?.state._nodes ?? []) reached.add(node.id);
    }
    expect(leafIds.filter((id) => !reached.has(id))).toEqual([]);
  });

  it("replaying every shortest path through stepPeer (and the reference model) ends in the graph's state", () => {
    // Shortest paths share prefixes: each state is replayed once, from the state before it on
    // its shortest path (replayed and checked already), with the model state it had there.
    const replayed = new Map<string, { snapshot: PeerSnapshot; model: ModelState }>([
      [initialKey, { snapshot: initialPeerSnapshot, model: new PeerModel().state() }],
    ]);
    for (const key of tree.order.slice(1)) {
      const edge = tree.parent.get(key);
      const start = edge === undefined ? undefined : replayed.get(edge.from);
      expect(edge !== undefined && start !== undefined, key).toBe(true);
      if (edge === undefined || start === undefined) continue;
      const { snapshot, model: modelState } = start;
      const result = stepPeer(snapshot, edge.event);
      // The independent reference model must agree on every step of every path.
      const model = new PeerModel(modelState);
      expect(model.apply(edge.event)).toEqual({
        kind: result.kind,
        commands: result.kind === "applied" ? result.commands : [],
      });
      expect(
        result.kind,
        `${JSON.stringify(edge.event)} from ${JSON.stringify(snapshot.value)}`,
      ).not.toBe("rejected");
      const graphState = states.get(key)?.state;
      expect(result.snapshot.value).toEqual(graphState?.value);
      expect(result.snapshot.context).toEqual(graphState?.context);
      replayed.set(key, { snapshot: result.snapshot, model: model.state() });
    }
    // Every state but the initial one was reached by a replay through stepPeer.
    expect(replayed.size).toBe(states.size);
  });
});
