import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { RoomId, SessionId } from "../../src/events/matrixIds.js";
import type { PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import type { DeliveredMessage, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import type { Transport } from "../../src/transport/transport.js";
import { specHomeserver } from "../support/specHomeserver.js";
import { AliceSupervisor, StudyFailure } from "./aliceSupervisor.js";
import type { ChildEntry } from "./childEntry.js";
import { drainOneTimeKeys, type PeerSaw, ScriptedPeer } from "./crashPeers.js";
import { type AliceClaim, CrashRelay } from "./crashRelay.js";
import { ALICE, PEERS, type PeerIndex, type Step } from "./crashStory.js";
import type { Command, CommandResult, Note } from "./ipcProtocol.js";
import type { KillPlan } from "./killPlan.js";

/*
 * Runs a story's steps against one world: the homeserver double, the scripted peers, the relay
 * and alice in her child process. Records what the checks need, stamped with the step it
 * happened in: every delivery the homeserver made, what each peer decrypted, the keys alice
 * claimed, the replies her machine decided on, and her machines' states after each of her steps.
 */

export interface Stamped {
  readonly step: number;
  readonly time: number;
}

export interface StepRecord extends Stamped {
  readonly step: number;
  readonly what: Step;
  /** Alice's machine per peer (PEERS order) after the step; only after her own steps. */
  readonly states: readonly PeerSnapshot[] | undefined;
  readonly pendingRequests: number | undefined;
}

export interface RunRecord {
  readonly steps: readonly StepRecord[];
  readonly deliveries: readonly (DeliveredMessage & Stamped)[];
  readonly peerSaw: readonly (Stamped & { readonly peer: PeerIndex; readonly saw: PeerSaw })[];
  readonly aliceClaims: readonly AliceClaim[];
  readonly dummyDecisions: readonly (Stamped & { readonly peer: PeerIndex })[];
  /** onPeerReachable and onRepliedToNotice calls, by peer. */
  readonly hookCalls: readonly (Stamped & {
    readonly peer: PeerIndex;
    readonly hook: "peerReachable" | "repliedToNotice";
  })[];
  readonly hookErrors: readonly string[];
  /** How alice's sync steps answered m.no_olm notices (by ReplyOutcome), counted per attempt. */
  readonly replies: Readonly<Record<string, number>>;
  readonly violations: readonly string[];
  readonly problems: readonly string[];
  readonly finalStates: readonly PeerSnapshot[];
  readonly finalPendingRequests: number;
  readonly alice: PeerDevice;
  readonly restarts: number;
  readonly startupMs: readonly number[];
  readonly moduleLoadMs: readonly number[];
}

export interface RunParts {
  readonly entry: ChildEntry;
  readonly dbPath: string;
  readonly kills: KillPlan | undefined;
  readonly maxMessagesPerRequest: number;
  /** A deliberately broken store for alice (storeMutations.ts), or null. */
  readonly mutation: string | null;
  /** Story time at the start. */
  readonly startTime: number;
}

const MINUTE = 60_000;

export class StoryRun {
  readonly #hs: InMemoryHomeserver;
  readonly #peers: readonly ScriptedPeer[];
  readonly #relay: CrashRelay;
  readonly #alice: AliceSupervisor;
  readonly #drainer: Transport;
  #step = -1;
  #time: number;
  readonly #steps: StepRecord[] = [];
  readonly #deliveries: (DeliveredMessage & Stamped)[] = [];
  readonly #peerSaw: (Stamped & { peer: PeerIndex; saw: PeerSaw })[] = [];
  readonly #decisions: (Stamped & { peer: PeerIndex })[] = [];
  readonly #hookCalls: (Stamped & {
    peer: PeerIndex;
    hook: "peerReachable" | "repliedToNotice";
  })[] = [];
  readonly #hookErrors: string[] = [];
  readonly #replies: Record<string, number> = {};

  private constructor(parts: RunParts, peers: readonly ScriptedPeer[], hs: InMemoryHomeserver) {
    this.#hs = hs;
    this.#peers = peers;
    this.#time = parts.startTime;
    this.#drainer = hs.transportFor("@others:example.com", "OTHERS");
    const position = () => ({ step: this.#step, time: this.#time });
    this.#relay = new CrashRelay(hs, ALICE, parts.kills, position);
    this.#alice = new AliceSupervisor({
      entry: parts.entry,
      dbPath: parts.dbPath,
      hs,
      relay: this.#relay,
      kills: parts.kills,
      devices: peers.map((peer) => peer.device),
      position,
      maxMessagesPerRequest: parts.maxMessagesPerRequest,
      mutation: parts.mutation,
      onNote: (note) => this.#note(note),
    });
    hs.onDeliver((message) => this.#deliveries.push({ ...message, ...position() }));
  }

  static async open(parts: RunParts): Promise<StoryRun> {
    const hs = specHomeserver();
    const peers: ScriptedPeer[] = [];
    for (const { userId, deviceId } of PEERS)
      peers.push(await ScriptedPeer.create(hs, userId, deviceId));
    const run = new StoryRun(parts, peers, hs);
    // Alice starts (and publishes her keys) before the story: peers need her device.
    await run.#alice.run(() => ({ op: "setTime" }));
    return run;
  }

  get stepCount(): number {
    return this.#steps.length;
  }

  get restarts(): number {
    return this.#alice.restarts;
  }

  async runStep(what: Step): Promise<void> {
    this.#step += 1;
    if (what.op === "tick") this.#time += what.minutes * MINUTE;
    const aliceStep = await this.#perform(what);
    let states: PeerSnapshot[] | undefined;
    let pendingRequests: number | undefined;
    if (aliceStep) ({ states, pendingRequests } = await this.#states());
    this.#steps.push({ step: this.#step, time: this.#time, what, states, pendingRequests });
  }

  /** Carries out a step; says whether it was one of alice's (her states may have changed). */
  async #perform(what: Step): Promise<boolean> {
    const peer = (index: PeerIndex): ScriptedPeer => {
      const found = this.#peers[index];
      if (found === undefined) throw new StudyFailure(`no peer ${index}`);
      return found;
    };
    const alice = (build: () => Command) => this.#alice.run(build);
    switch (what.op) {
      case "tick":
        return false;
      case "establish":
        await alice(() => ({ op: "establish", devices: what.peers.map((i) => peer(i).device) }));
        return true;
      case "withhold":
        await alice(() => ({
          op: "withhold",
          requests: what.notices.map((n) => ({
            device: peer(n.peer).device,
            code: n.code,
            roomId: n.roomId as RoomId,
            sessionId: n.sessionId as SessionId,
          })),
        }));
        return true;
      case "aliceSync": {
        const synced = await alice(() => ({ op: "sync" }));
        if (synced.op !== "sync") throw new StudyFailure(`sync answered ${synced.op}`);
        for (const handled of synced.handled) {
          const [kind, , reply] = handled.split(":");
          if (kind === "noOlmNotice" && reply !== undefined) {
            this.#replies[reply] = (this.#replies[reply] ?? 0) + 1;
          }
        }
        return true;
      }
      case "aliceFlush":
        await alice(() => ({ op: "flush" }));
        return true;
      case "aliceForget":
        await alice(() => ({ op: "forget", device: peer(what.peer).device }));
        return true;
      case "aliceTopUp":
        await alice(() => ({
          op: "topUpKeys",
          target: what.target,
          published: this.#hs.oneTimeKeyCount(ALICE.userId, ALICE.deviceId, "signed_curve25519"),
        }));
        return true;
      case "aliceDrain":
        await drainOneTimeKeys(this.#hs, this.#drainer, ALICE);
        return false;
      case "peerDrain":
        await drainOneTimeKeys(this.#hs, this.#drainer, peer(what.peer).device);
        return false;
      case "peerTopUp": {
        const { userId, deviceId } = peer(what.peer).device;
        const held = this.#hs.oneTimeKeyCount(userId, deviceId, "signed_curve25519");
        if (held < what.target) peer(what.peer).uploadOneTimeKeys(what.target - held);
        return false;
      }
      case "peerContact":
        await peer(what.peer).contact(this.#alice.device);
        return false;
      case "peerSync":
        for (const saw of peer(what.peer).sync(this.#alice.device)) {
          this.#peerSaw.push({ step: this.#step, time: this.#time, peer: what.peer, saw });
        }
        return false;
    }
  }

  async #states(): Promise<{ states: PeerSnapshot[]; pendingRequests: number }> {
    const result: CommandResult = await this.#alice.run(() => ({
      op: "states",
      devices: this.#peers.map((peer) => peer.device),
    }));
    if (result.op !== "states") throw new StudyFailure(`states answered ${result.op}`);
    return {
      states: result.states.map((entry) => entry.snapshot),
      pendingRequests: result.pendingRequests,
    };
  }

  #note(note: Note): void {
    if (note.type === "hookError") {
      this.#hookErrors.push(`step ${this.#step}: ${note.where}: ${note.detail}`);
      return;
    }
    const at = { step: this.#step, time: this.#time };
    const peer = PEERS.findIndex((p) => p.userId === note.userId && p.deviceId === note.deviceId);
    if (note.type === "dummyDecided") this.#decisions.push({ ...at, peer });
    else this.#hookCalls.push({ ...at, peer, hook: note.type });
  }

  /** The final flush and states, then stops alice and frees the peers. */
  async finish(): Promise<RunRecord> {
    this.#step += 1;
    await this.#alice.run(() => ({ op: "flush" }));
    const final = await this.#states();
    await this.#alice.stop();
    const record: RunRecord = {
      steps: this.#steps,
      deliveries: this.#deliveries,
      peerSaw: this.#peerSaw,
      aliceClaims: this.#relay.claims,
      dummyDecisions: this.#decisions,
      hookCalls: this.#hookCalls,
      hookErrors: this.#hookErrors,
      replies: this.#replies,
      violations: this.#hs.violations.map(
        (v) => `${v.endpoint} ${v.device?.deviceId ?? ""}: ${v.problems.join("; ")}`,
      ),
      problems: [
        ...this.#alice.problems,
        ...(this.#relay.unacknowledged > 0
          ? [`${this.#relay.unacknowledged} to-device events never acknowledged`]
          : []),
      ],
      finalStates: final.states,
      finalPendingRequests: final.pendingRequests,
      alice: this.#alice.device,
      restarts: this.#alice.restarts,
      startupMs: this.#alice.startupMs,
      moduleLoadMs: this.#alice.moduleLoadMs,
    };
    return record;
  }

  /** Stops alice and frees libolm memory, whatever state the run is in. */
  async dispose(): Promise<void> {
    await this.#alice.stop();
    for (const peer of this.#peers) peer.dispose();
  }
}
