import { SENDABLE_SESSION_CODES, type SendableSessionCode } from "../../src/events/withheldCode.js";
import type { Prng } from "./prng.js";

/*
 * The seeded story, as data: rounds of steps, generated one at a time (the crash run asks for
 * rounds until enough kills happened; the uninterrupted run replays the same steps).
 *
 * A round: some of alice's sessions are replaced (she forgets them); some peers run out of
 * one-time keys, so alice's shares fail and she sends m.no_olm (one per episode, however often
 * she retries); per-session notices are asked for, often again; peers that lost their session
 * with alice try to reach her: a new session if they can claim one of her keys, else an
 * m.no_olm, which she answers with an m.dummy (over a new session if she has none), at most once
 * an hour (some notices come inside the hour, some after); some peers publish keys again and
 * alice's next share, or her answer to their m.no_olm, ends their episode. Rounds are more than an hour apart, and alice forgets a
 * session only at the start of a round, so in the uninterrupted story she creates at most one new
 * session with each peer per hour: any more in the crash run is the crashes' doing.
 */

export const ALICE = { userId: "@alice:example.org", deviceId: "ALICEPHONE" } as const;

export const PEERS = [
  { userId: "@bob:example.org", deviceId: "BOBLAPTOP" },
  { userId: "@bob:example.org", deviceId: "BOBPHONE" },
  { userId: "@carol:example.org", deviceId: "CAROLDESK" },
  { userId: "@dave:example.net", deviceId: "DAVETAB" },
] as const;

/** Index into PEERS. */
export type PeerIndex = number;

export interface WithholdNotice {
  readonly peer: PeerIndex;
  readonly roomId: string;
  readonly sessionId: string;
  readonly code: SendableSessionCode;
}

export type Step =
  | { readonly op: "tick"; readonly minutes: number }
  | { readonly op: "establish"; readonly peers: readonly PeerIndex[] }
  | { readonly op: "withhold"; readonly notices: readonly WithholdNotice[] }
  | { readonly op: "aliceSync" }
  | { readonly op: "aliceFlush" }
  | { readonly op: "aliceForget"; readonly peer: PeerIndex }
  | { readonly op: "aliceTopUp"; readonly target: number }
  /** Other devices claimed every one-time key alice had left. */
  | { readonly op: "aliceDrain" }
  | { readonly op: "peerDrain"; readonly peer: PeerIndex }
  /** The peer publishes one-time keys up to `target`. */
  | { readonly op: "peerTopUp"; readonly peer: PeerIndex; readonly target: number }
  | { readonly op: "peerContact"; readonly peer: PeerIndex }
  | { readonly op: "peerSync"; readonly peer: PeerIndex };

/** Keys a peer holds when it is not out of them: more than kills can use up in one round. */
export const PEER_KEYS = 12;
export const ALICE_KEYS = 6;

const ALL: readonly PeerIndex[] = PEERS.map((_, index) => index);

export class CrashStory {
  #round = 0;
  readonly #sessionNotices: WithholdNotice[] = [];

  constructor(private readonly prng: Prng) {}

  get rounds(): number {
    return this.#round;
  }

  /** Everyone publishes keys: the state every round starts from. */
  prologue(): Step[] {
    return [...ALL.map((peer) => topUp(peer)), { op: "aliceTopUp", target: ALICE_KEYS }];
  }

  nextRound(): Step[] {
    this.#round += 1;
    const p = this.prng;
    const steps: Step[] = [];
    const add = (...more: Step[]) => steps.push(...more);
    const tick = (min: number, max: number) => add({ op: "tick", minutes: p.int(min, max) });
    const syncPeers = () => add(...ALL.map((peer): Step => ({ op: "peerSync", peer })));

    const failing = p.subset(ALL, 0.5);
    for (const peer of ALL) if (!failing.includes(peer)) add(topUp(peer));
    const forgotten = p.subset(ALL, 0.6);
    for (const peer of forgotten) add({ op: "aliceForget", peer });
    for (const peer of failing) add({ op: "peerDrain", peer });
    // Out of keys, alice gets m.no_olm from the peers that try to reach her, and answers them.
    add(p.chance(0.6) ? { op: "aliceDrain" } : { op: "aliceTopUp", target: ALICE_KEYS });

    // Before she shares: a peer whose session she replaced reaches out; with no session, she
    // answers over a new one (she claims the peer's key).
    const early = p.subset(forgotten, 0.5);
    if (early.length > 0) {
      for (const peer of early) add({ op: "peerContact", peer });
      tick(1, 3);
      add({ op: "aliceSync" });
      syncPeers();
    }

    // Shares: the failures start episodes; retrying a few times sends nothing more.
    add({ op: "establish", peers: ALL });
    for (let i = p.int(1, 2); i > 0; i--) {
      tick(1, 5);
      add({ op: "establish", peers: p.subset(ALL, 0.7) });
    }
    add(this.#withhold(p.int(1, 3), p.int(0, 2)));

    // Peers that lost their session with alice: hellos, or m.no_olm for her to answer.
    const contacts = p.subset(ALL, 0.6);
    for (const peer of contacts) add({ op: "peerContact", peer });
    tick(1, 5);
    add({ op: "aliceSync" });
    syncPeers();
    if (contacts.length > 0 && p.chance(0.6)) {
      // Inside the hour after her reply: recorded, not answered.
      tick(10, 40);
      for (const peer of p.subset(contacts, 0.7)) add({ op: "peerContact", peer });
      add({ op: "aliceSync" });
      syncPeers();
    }

    // Recovery for some: keys again, and the next share ends the episode; some reach out
    // first, and alice's answer over a new session (or their hello) ends it instead.
    const recovering = p.subset(failing, 0.6);
    for (const peer of recovering) add(topUp(peer));
    const reachOut = p.subset(recovering, 0.8);
    if (reachOut.length > 0) {
      if (p.chance(0.85)) add({ op: "aliceDrain" });
      for (const peer of reachOut) add({ op: "peerContact", peer });
      tick(1, 3);
      add({ op: "aliceSync" });
      syncPeers();
    }
    tick(1, 5);
    add({ op: "establish", peers: ALL });
    add(this.#withhold(p.int(0, 1), p.int(1, 3)));

    if (p.chance(0.5)) {
      // After the hour: answered again.
      tick(61, 75);
      for (const peer of p.subset(ALL, 0.5)) add({ op: "peerContact", peer });
      add({ op: "aliceSync" });
      syncPeers();
    }
    add({ op: "aliceFlush" });
    // More than an hour to the next round's forgets (see the header).
    tick(61, 150);
    return steps;
  }

  /** The network healthy and no more kills: everyone has keys, alice shares and syncs. */
  epilogue(): Step[] {
    const steps: Step[] = [{ op: "tick", minutes: 61 }];
    steps.push(...ALL.map((peer) => topUp(peer)), { op: "aliceTopUp", target: ALICE_KEYS });
    steps.push({ op: "establish", peers: ALL }, { op: "aliceSync" });
    steps.push(...ALL.map((peer): Step => ({ op: "peerSync", peer })));
    steps.push({ op: "aliceFlush" });
    return steps;
  }

  /** `fresh` new per-session notices and `repeats` asked for again. */
  #withhold(fresh: number, repeats: number): Step {
    const p = this.prng;
    const notices: WithholdNotice[] = [];
    for (let i = 0; i < fresh; i++) {
      const notice: WithholdNotice = {
        peer: p.pick(ALL),
        roomId: `!room${p.int(1, 3)}:example.org`,
        sessionId: `session.${this.#round}.${i}`,
        code: p.pick(SENDABLE_SESSION_CODES),
      };
      this.#sessionNotices.push(notice);
      notices.push(notice);
    }
    for (let i = 0; i < repeats && this.#sessionNotices.length > 0; i++) {
      notices.push(p.pick(this.#sessionNotices));
    }
    return { op: "withhold", notices };
  }
}

const topUp = (peer: PeerIndex): Step => ({ op: "peerTopUp", peer, target: PEER_KEYS });
