import { type PeerSnapshot, peerLeaves } from "../../src/machine/peerSnapshot.js";
import { REPLY_INTERVAL_MS } from "../../src/machine/timing.js";
import { ALICE, PEERS, type PeerIndex, type Step } from "./crashStory.js";
import type { RunRecord, StepRecord } from "./storyRunner.js";

/*
 * The checks, from what the homeserver actually delivered and what the peers' libolm saw, in the
 * crash run, against the same story run without kills:
 *
 * - m.no_olm: exactly one delivered per (peer, failure episode). Episodes are the crash run's
 *   own: a notice id alice's machine held in `unreachable` after some step. A notice is counted
 *   for the episode its peer's machine was in after the step that delivered it; one delivered
 *   outside any episode counts as duplicated.
 * - per-session notices: exactly one delivered per (peer, room, session) asked for.
 * - m.dummy: per (peer, step), at least as many delivered as the uninterrupted run delivered
 *   and at least one where alice's machine decided on one (DUMMY_QUEUED); fewer is dummy_lost,
 *   more is a failed check.
 * - new Olm sessions from alice, as the peers' libolm saw them (a decrypted pre-key message that
 *   made a new inbound session), dated by the /keys/claim that gave alice the one-time key it
 *   names: at most one per peer per hour, and made in the same steps as without kills.
 * - stuck: after the final flush, a peer whose machine is still in noticePending or mid-reply
 *   (newSession, existingSession, *DummyQueued), plus each request still pending.
 * - states: after every one of alice's steps and at the end, each peer's leaves and noticeId,
 *   unreachableSince, lastNoticeReceivedAt, lastReplyAt, claimFailures and claimFailedAt equal
 *   the uninterrupted run's. replyId is not compared: a reply RESUMED after a restart starts
 *   again under a fresh id, so it may legitimately run ahead.
 * - hooks a client acts on: onPeerReachable (re-share what was withheld) and onRepliedToNotice
 *   (request the missing keys) are called, per (peer, step), at least once wherever the
 *   uninterrupted run called them. A kill may make the library call one again; never skip it.
 * - no spec violation at the homeserver double, no hook error, no other problem, in either run.
 */

export interface Counters {
  readonly episodes: number;
  /** m.no_olm and per-session notices delivered. */
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly stuck: number;
  readonly dummyLost: number;
}

export interface CheckReport {
  readonly counters: Counters;
  readonly details: Record<string, number>;
  readonly failures: readonly string[];
}

const NO_OLM = "m.no_olm";
const WITHHELD = "m.room_key.withheld";
const ENCRYPTED = "m.room.encrypted";
const MID_WORK = new Set([
  "newSession",
  "existingSession",
  "newSessionDummyQueued",
  "existingSessionDummyQueued",
]);
const MAX_LISTED = 8;

const peerIndexOf = (ref: { readonly userId: string; readonly deviceId: string }): PeerIndex =>
  PEERS.findIndex((p) => p.userId === ref.userId && p.deviceId === ref.deviceId);

const fromAlice = (ref: { readonly userId: string; readonly deviceId: string }): boolean =>
  ref.userId === ALICE.userId && ref.deviceId === ALICE.deviceId;

export function checkRuns(
  steps: readonly Step[],
  crash: RunRecord,
  reference: RunRecord,
): CheckReport {
  const failures: string[] = [];
  const fail = (list: readonly string[], what: string) => {
    if (list.length === 0) return;
    failures.push(`${what} (${list.length}): ${list.slice(0, MAX_LISTED).join(" | ")}`);
  };
  for (const [name, run] of [
    ["crash run", crash],
    ["uninterrupted run", reference],
  ] as const) {
    fail(run.violations, `${name}: spec violations at the homeserver`);
    fail(run.hookErrors, `${name}: the library reported errors`);
    fail(run.problems, `${name}: problems`);
  }

  const noOlm = checkNoOlm(crash);
  const sessionNotices = checkSessionNotices(steps, crash);
  const dummies = checkDummies(crash, reference);
  const sessions = checkNewSessions(crash, reference);
  const stuck = stuckPeers(crash);
  const states = compareStates(crash, reference);
  const undecryptable = compareUndecryptable(crash, reference);
  const hooks = compareHooks(crash, reference);
  fail(noOlm.problems, "m.no_olm not exactly once per episode");
  fail(sessionNotices.problems, "per-session notices not exactly once");
  fail(dummies.problems, "m.dummy");
  fail(sessions.problems, "new Olm sessions from alice");
  fail(stuck.problems, "stuck after recovery");
  fail(states, "states differ from the uninterrupted run");
  fail(undecryptable, "peers could not decrypt what alice sent");
  fail(hooks.problems, "hook calls lost");

  return {
    counters: {
      episodes: noOlm.episodes,
      delivered: noOlm.delivered + sessionNotices.delivered,
      lost: noOlm.lost + sessionNotices.lost,
      duplicated: noOlm.duplicated + sessionNotices.duplicated,
      stuck: stuck.count,
      dummyLost: dummies.lost,
    },
    details: {
      noOlmDelivered: noOlm.delivered,
      sessionNoticesAsked: sessionNotices.asked,
      sessionNoticesDelivered: sessionNotices.delivered,
      dummiesDelivered: dummies.delivered,
      dummiesExtra: dummies.extra,
      newSessionsFromAlice: sessions.count,
      sessionsInsideTheHour: sessions.insideTheHour,
      hookCallsExpected: hooks.expected,
      hookCallsAgainAfterKill: hooks.again,
      // From the uninterrupted run (the crash run handles a notice again after a kill).
      noticesToAliceAnsweredNewSession: reference.replies.newSession ?? 0,
      noticesToAliceAnsweredExistingSession: reference.replies.existingSession ?? 0,
      noticesToAliceNotAnswered: reference.replies.none ?? 0,
      noticesToAliceReplyFailed: reference.replies.failed ?? 0,
    },
    failures,
  };
}

/** The state after each step: a step that is not alice's leaves it as it was. */
function statesByStep(run: RunRecord): (readonly PeerSnapshot[] | undefined)[] {
  const byStep: (readonly PeerSnapshot[] | undefined)[] = [];
  let last: readonly PeerSnapshot[] | undefined;
  for (const record of run.steps) {
    last = record.states ?? last;
    byStep[record.step] = last;
  }
  byStep[run.steps.length] = run.finalStates;
  return byStep;
}

const isUnreachable = (snapshot: PeerSnapshot | undefined): boolean => {
  if (snapshot === undefined) return false;
  const { olm } = peerLeaves(snapshot.value);
  return olm === "noticePending" || olm === "noticeDelivered";
};

function checkNoOlm(run: RunRecord) {
  const byStep = statesByStep(run);
  // peer → noticeId → notices delivered for that episode
  const episodes = PEERS.map(() => new Map<number, number>());
  for (const states of byStep) {
    states?.forEach((snapshot, peer) => {
      if (isUnreachable(snapshot))
        episodes[peer]?.set(
          snapshot.context.noticeId,
          episodes[peer]?.get(snapshot.context.noticeId) ?? 0,
        );
    });
  }
  const problems: string[] = [];
  let delivered = 0;
  let outside = 0;
  for (const message of run.deliveries) {
    if (!fromAlice(message.sender) || message.eventType !== WITHHELD) continue;
    if (message.content.code !== NO_OLM) continue;
    delivered += 1;
    const peer = peerIndexOf(message.recipient);
    const snapshot = byStep[message.step]?.[peer];
    const episode = episodes[peer];
    if (snapshot === undefined || episode === undefined || !isUnreachable(snapshot)) {
      outside += 1;
      problems.push(
        `${message.recipient.deviceId}: m.no_olm at step ${message.step} outside any episode`,
      );
      continue;
    }
    const id = snapshot.context.noticeId;
    episode.set(id, (episode.get(id) ?? 0) + 1);
  }
  let count = 0;
  let lost = 0;
  let duplicated = outside;
  episodes.forEach((byId, peer) => {
    for (const [noticeId, notices] of byId) {
      count += 1;
      const name = PEERS[peer]?.deviceId;
      if (notices === 0) {
        lost += 1;
        problems.push(`${name}: episode ${noticeId} got no m.no_olm`);
      } else if (notices > 1) {
        duplicated += notices - 1;
        problems.push(`${name}: episode ${noticeId} got ${notices} m.no_olm`);
      }
    }
  });
  return { episodes: count, delivered, lost, duplicated, problems };
}

function checkSessionNotices(steps: readonly Step[], run: RunRecord) {
  const asked = new Map<string, number>();
  for (const step of steps) {
    if (step.op !== "withhold") continue;
    for (const n of step.notices) asked.set(noticeKey(n.peer, n.roomId, n.sessionId), 0);
  }
  const problems: string[] = [];
  let delivered = 0;
  let duplicated = 0;
  for (const message of run.deliveries) {
    if (!fromAlice(message.sender) || message.eventType !== WITHHELD) continue;
    if (message.content.code === NO_OLM) continue;
    delivered += 1;
    const key = noticeKey(
      peerIndexOf(message.recipient),
      String(message.content.room_id),
      String(message.content.session_id),
    );
    const seen = asked.get(key);
    if (seen === undefined) {
      duplicated += 1;
      problems.push(`never asked for: ${key}`);
      continue;
    }
    asked.set(key, seen + 1);
    if (seen >= 1) {
      duplicated += 1;
      problems.push(`${key} delivered ${seen + 1} times`);
    }
  }
  let lost = 0;
  for (const [key, seen] of asked) {
    if (seen > 0) continue;
    lost += 1;
    problems.push(`${key} never delivered`);
  }
  return { asked: asked.size, delivered, lost, duplicated, problems };
}

const noticeKey = (peer: number, roomId: string, sessionId: string): string =>
  `${PEERS[peer]?.deviceId ?? "?"} ${roomId} ${sessionId}`;

/** m.dummy (alice sends nothing else encrypted) delivered, per "peer step". */
function dummiesDelivered(run: RunRecord): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of run.deliveries) {
    if (!fromAlice(message.sender) || message.eventType !== ENCRYPTED) continue;
    const key = `${peerIndexOf(message.recipient)} ${message.step}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function checkDummies(crash: RunRecord, reference: RunRecord) {
  const got = dummiesDelivered(crash);
  const expected = dummiesDelivered(reference);
  for (const { peer, step } of crash.dummyDecisions) {
    const key = `${peer} ${step}`;
    expected.set(key, Math.max(1, expected.get(key) ?? 0));
  }
  const problems: string[] = [];
  let lost = 0;
  let extra = 0;
  for (const [key, want] of expected) {
    const have = got.get(key) ?? 0;
    if (have < want) {
      lost += want - have;
      problems.push(`lost: peer/step ${key}: ${have} delivered, ${want} expected`);
    }
  }
  for (const [key, have] of got) {
    const want = expected.get(key) ?? 0;
    if (have > want) {
      extra += have - want;
      problems.push(`extra: peer/step ${key}: ${have} delivered, ${want} without kills`);
    }
  }
  const delivered = [...got.values()].reduce((sum, n) => sum + n, 0);
  return { lost, extra, delivered, problems };
}

/** Steps at which alice created the sessions each peer saw new, dated by alice's claim. */
function newSessions(run: RunRecord, problems: string[]) {
  const perPeer = PEERS.map(() => [] as { step: number; time: number }[]);
  for (const { peer, saw, step } of run.peerSaw) {
    if (saw.kind !== "encrypted" || !saw.newSession) continue;
    const device = PEERS[peer];
    const claim = run.aliceClaims.find(
      (c) => c.key === saw.oneTimeKey && c.deviceId === device?.deviceId,
    );
    if (claim === undefined) {
      problems.push(
        `${device?.deviceId}: a new session seen at step ${step} uses no key alice claimed`,
      );
      continue;
    }
    perPeer[peer]?.push({ step: claim.step, time: claim.time });
  }
  return perPeer;
}

function checkNewSessions(crash: RunRecord, reference: RunRecord) {
  const problems: string[] = [];
  const made = newSessions(crash, problems);
  const madeWithout = newSessions(reference, []);
  let count = 0;
  let insideTheHour = 0;
  made.forEach((sessions, peer) => {
    const name = PEERS[peer]?.deviceId;
    count += sessions.length;
    const times = sessions.map((s) => s.time).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      if (gap < REPLY_INTERVAL_MS) {
        insideTheHour += 1;
        problems.push(`${name}: two new sessions ${Math.round(gap / 60_000)} min apart`);
      }
    }
    const steps = sessions.map((s) => s.step).join(",");
    const without = (madeWithout[peer] ?? []).map((s) => s.step).join(",");
    if (steps !== without)
      problems.push(`${name}: sessions made at steps [${steps}], without kills [${without}]`);
  });
  return { count, insideTheHour, problems };
}

function stuckPeers(run: RunRecord) {
  const problems: string[] = [];
  run.finalStates.forEach((snapshot, peer) => {
    const { olm, reply } = peerLeaves(snapshot.value);
    if (olm === "noticePending" || MID_WORK.has(reply)) {
      problems.push(`${PEERS[peer]?.deviceId}: ${olm}/${reply}`);
    }
  });
  const peers = problems.length;
  if (run.finalPendingRequests > 0) problems.push(`${run.finalPendingRequests} requests pending`);
  return { count: peers + run.finalPendingRequests, problems };
}

/** What must be equal with and without kills (replyId excepted: see the header). */
function comparable(snapshot: PeerSnapshot | undefined): string {
  if (snapshot === undefined) return "none";
  const { olm, reply } = peerLeaves(snapshot.value);
  const c = snapshot.context;
  return JSON.stringify({
    olm,
    reply,
    noticeId: c.noticeId,
    unreachableSince: c.unreachableSince,
    lastNoticeReceivedAt: c.lastNoticeReceivedAt,
    lastReplyAt: c.lastReplyAt,
    claimFailures: c.claimFailures,
    claimFailedAt: c.claimFailedAt,
  });
}

function compareStates(crash: RunRecord, reference: RunRecord): string[] {
  const problems: string[] = [];
  const withoutByStep = new Map<number, StepRecord>(reference.steps.map((s) => [s.step, s]));
  const compare = (
    where: string,
    a: readonly PeerSnapshot[] | undefined,
    b: readonly PeerSnapshot[] | undefined,
  ) => {
    PEERS.forEach((peer, i) => {
      const got = comparable(a?.[i]);
      const want = comparable(b?.[i]);
      if (got !== want) problems.push(`${where} ${peer.deviceId}: ${got} vs ${want}`);
    });
  };
  for (const record of crash.steps) {
    if (record.states === undefined) continue;
    const without = withoutByStep.get(record.step);
    compare(`step ${record.step} (${record.what.op})`, record.states, without?.states);
    if (problems.length > 0) break; // the first step that differs says the most
  }
  compare("final", crash.finalStates, reference.finalStates);
  return problems;
}

function compareUndecryptable(crash: RunRecord, reference: RunRecord): string[] {
  const failed = (run: RunRecord) =>
    run.peerSaw
      .filter((s) => s.saw.kind === "encrypted" && !s.saw.decrypted)
      .map((s) => `${PEERS[s.peer]?.deviceId}@${s.step}`)
      .join(",");
  const a = failed(crash);
  const b = failed(reference);
  return a === b ? [] : [`crash run [${a}], without kills [${b}]`];
}

function compareHooks(crash: RunRecord, reference: RunRecord) {
  const count = (run: RunRecord) => {
    const counts = new Map<string, number>();
    for (const { hook, peer, step } of run.hookCalls) {
      const key = `${hook} ${PEERS[peer]?.deviceId} step ${step}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const got = count(crash);
  const want = count(reference);
  const problems: string[] = [];
  let expected = 0;
  let again = 0;
  for (const [key, n] of want) {
    expected += n;
    const have = got.get(key) ?? 0;
    if (have < n) problems.push(`${key}: ${have} calls, ${n} without kills`);
  }
  for (const [key, have] of got) again += Math.max(0, have - (want.get(key) ?? 0));
  return { expected, again, problems };
}
