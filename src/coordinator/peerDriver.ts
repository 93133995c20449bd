import { type PeerDevice, type PeerKey, peerKeyOf } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import { codeOfLeaves, olmLeafOf, replyLeafOf, stateValueOf } from "../machine/leafPairs.js";
import type { PeerCommand } from "../machine/peerCommands.js";
import { initialPeerContext, samePeerContext } from "../machine/peerContext.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import { PEER_MACHINE_TABLE } from "../machine/peerMachineTable.js";
import { initialPeerSnapshot, type PeerSnapshot, peerLeaves } from "../machine/peerSnapshot.js";
import type { StepResult } from "../machine/stepPeer.js";
import { parseKeysClaimResponse } from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { callHook, callHookDetached, reportHookError } from "./callHook.js";
import type { GuardedOlm } from "./guardedOlm.js";
import type { KeyWithholdingHooks, ReplyOutcome } from "./keyWithholdingTypes.js";
import type { Outbox, OutboxOrigin } from "./outbox.js";
import { PackedPeerStates, type PeerState } from "./packedPeerStates.js";
import type { PeerInspection } from "./peerInspection.js";
import type { ProtocolClock } from "./protocolClock.js";
import { safeClaimKeys } from "./safeTransport.js";
import { peerRecord, type RestoredPeer } from "./storedRecords.js";
import type { StoreWriter } from "./storeWriter.js";

const WITHHELD = "m.room_key.withheld";
const ENCRYPTED = "m.room.encrypted";

export interface PeerDriverParts {
  readonly olm: GuardedOlm;
  readonly transport: Transport;
  readonly writer: StoreWriter;
  /** Makes what changed so far durable (packing queued messages first); before any network call. */
  readonly commit: () => Promise<unknown>;
  readonly outbox: Outbox;
  readonly hooks: KeyWithholdingHooks;
  readonly clock: ProtocolClock;
  /** Every m.no_olm we send is this same content: it names no room, session or recipient. */
  readonly noOlmContent: JsonObject;
  readonly callTimeoutMs: number;
  /** Mirrors inspected devices' steps to XState's inspection API (the `inspect` option). */
  readonly inspection: PeerInspection | undefined;
}

/**
 * The imperative shell around the pure machine: steps a peer's machine, saves the snapshot, and
 * carries out the commands, feeding their outcomes back as events. Everything the protocol
 * decides is decided by `stepPeer`; this only does what it is told, and every command it starts
 * ends in an outcome event, whatever the edges do.
 */
export class PeerDriver {
  /**
   * Each device's current state, packed (packedPeerStates.ts). The store is written through and
   * read only at start-up, so within a process this is the truth: a store that fails a save
   * cannot make a reply's outcome land on a fresh peer and leave the stored machine mid-reply.
   */
  readonly #states = new PackedPeerStates(INITIAL_LEAVES);
  /**
   * The devices with work in flight (a notice not yet acknowledged, a reply under way): acks and
   * retries are routed to them. Only these are held; a device is let go when its work ends.
   */
  readonly #inFlight = new Map<PeerKey, PeerDevice>();
  /** Restored with work in flight: they get RESUMED before anything else happens to them. */
  readonly #toResume = new Set<PeerKey>();

  constructor(private readonly parts: PeerDriverParts) {}

  now(): number {
    return this.parts.clock.now();
  }

  /** Takes back the peers read from the store at start-up. */
  restore(peers: readonly RestoredPeer[]): void {
    for (const { key, device, snapshot } of peers) {
      const { olm, reply } = peerLeaves(snapshot.value);
      const leaves = codeOfLeaves(olm, reply);
      this.#states.write(key, { leaves, context: snapshot.context });
      if (WORK_IN_FLIGHT[leaves] === true) {
        this.#inFlight.set(key, device);
        this.#toResume.add(key);
      }
    }
  }

  /** Whether restored peers still wait for RESUMED. */
  get resumePending(): boolean {
    return this.#toResume.size > 0;
  }

  /** Feeds RESUMED to every restored peer that had work in flight, and carries out its commands. */
  async resumeAll(): Promise<void> {
    for (const key of [...this.#toResume]) {
      const device = this.#inFlight.get(key);
      if (device !== undefined) await this.#resume(key, device);
    }
  }

  async #resume(key: PeerKey, device: PeerDevice): Promise<void> {
    if (!this.#toResume.delete(key)) return;
    await this.drive(device, { type: "RESUMED", at: this.now() }, key);
  }

  /** The device's snapshot (the initial one for a device never seen). */
  snapshot(device: PeerDevice, key: PeerKey = peerKeyOf(device)): PeerSnapshot {
    const state = this.#states.read(key);
    return state === undefined ? initialPeerSnapshot : snapshotOf(state);
  }

  /** How many devices have a state other than the initial one. */
  get tracked(): number {
    return this.#states.size;
  }

  /**
   * Brings the machine in line with the backend: a session it holds and the machine does not
   * know of (restored, made elsewhere), or one the machine knows of and the backend no longer
   * holds (dropped by the client).
   */
  syncSession(
    device: PeerDevice,
    has: boolean = this.parts.olm.hasSession(device),
    key: PeerKey = peerKeyOf(device),
  ): Drive | undefined {
    const established = olmLeafOf(this.#states.leavesOf(key)) === "established";
    if (has && !established) {
      const event = { type: "SESSION_ESTABLISHED", at: this.now(), origin: "existing" } as const;
      return this.drive(device, event, key);
    }
    if (!has && established)
      return this.drive(device, { type: "SESSION_LOST", at: this.now() }, key);
    return undefined;
  }

  /**
   * Feeds one event to the device's machine and carries out what it commands (which may feed
   * it further events). Returns the first step and how a reply it started ended, if any.
   * Synchronous unless a command has to wait (a hook, a claim, a reply): then a promise, and
   * the commands still run in order. A share of 100,000 outcomes costs no promise per device.
   */
  drive(device: PeerDevice, event: PeerEvent, key: PeerKey = peerKeyOf(device)): Drive {
    // Whatever a restored state had in flight is not any more: settle that first.
    if (this.#toResume.size > 0 && event.type !== "RESUMED" && this.#toResume.has(key)) {
      return this.#resume(key, device).then(() => this.#step(device, event, key));
    }
    return this.#step(device, event, key);
  }

  #step(device: PeerDevice, event: PeerEvent, key: PeerKey): Drive {
    const before = this.#states.read(key) ?? INITIAL_STATE;
    this.parts.inspection?.step(device, key, snapshotOf(before), event);
    const commands: PeerCommand[] = [];
    const next = PEER_MACHINE_TABLE.step(before.leaves, before.context, event, commands);
    const changed = next !== undefined && !sameState(before, next);
    if (next === undefined || (!changed && commands.length === 0)) {
      return { step: { kind: "ignored", snapshot: snapshotOf(before) }, reply: "none" };
    }
    if (WORK_IN_FLIGHT[next.leaves] === true) this.#inFlight.set(key, device);
    else if (WORK_IN_FLIGHT[before.leaves] === true) this.#inFlight.delete(key);
    const after = snapshotOf(next);
    // A step that only asks for commands (a claim decision, a retry) has nothing to save.
    if (changed) {
      this.#states.write(key, next, device);
      const { writer } = this.parts;
      if (writer.durable) {
        writer.peer(key, peerRecord(device, after));
        writer.protocolTime(event.at);
      }
      if (next.leaves !== before.leaves) this.#reportStateChange(device, event, before, next);
    }
    const step: StepResult = { kind: "applied", snapshot: after, commands };
    for (let i = 0; i < commands.length; i += 1) {
      const waiting = this.#carryOut(device, key, commands[i] as PeerCommand);
      if (waiting !== undefined) return this.#finish(device, key, step, waiting, i + 1);
    }
    return { step, reply: "none" };
  }

  /** The rest of a step's commands, once one of them has to wait. */
  async #finish(
    device: PeerDevice,
    key: PeerKey,
    step: Extract<StepResult, { kind: "applied" }>,
    waiting: Promise<ReplyOutcome | undefined>,
    from: number,
  ): Promise<Driven> {
    let reply: ReplyOutcome = (await waiting) ?? "none";
    for (let i = from; i < step.commands.length; i += 1) {
      const outcome = await this.#carryOut(device, key, step.commands[i] as PeerCommand);
      if (outcome !== undefined) reply = outcome;
    }
    return { step, reply };
  }

  #reportStateChange(device: PeerDevice, event: PeerEvent, before: PeerState, after: PeerState) {
    const { hooks } = this.parts;
    if (hooks.onPeerStateChange === undefined) return;
    const from = { olm: olmLeafOf(before.leaves), reply: replyLeafOf(before.leaves) };
    const to = { olm: olmLeafOf(after.leaves), reply: replyLeafOf(after.leaves) };
    callHookDetached(hooks, "onPeerStateChange", () =>
      hooks.onPeerStateChange?.({ device, event, from, to }),
    );
  }

  #reportError(thrown: unknown, where: string): void {
    reportHookError(this.parts.hooks, thrown, where);
  }

  /**
   * Carries out one command: at once, or a promise of how it ended (for a reply, how the reply
   * ended) when it has to wait.
   */
  #carryOut(
    device: PeerDevice,
    peer: PeerKey,
    command: PeerCommand,
  ): Promise<ReplyOutcome | undefined> | undefined {
    const { outbox, hooks, clock, callTimeoutMs } = this.parts;
    switch (command.type) {
      case "sendNoOlm":
        this.#queueNoOlm(device, peer, command.noticeId);
        return;
      case "retryNoOlm":
        // A failed request stays in the outbox and goes again on the next flush; after a restart
        // the notice may be nowhere, so it is queued again under the same id.
        if (!outbox.holds({ kind: "noOlm", peer, noticeId: command.noticeId })) {
          this.#queueNoOlm(device, peer, command.noticeId);
        }
        return;
      case "withdrawNoOlm":
        outbox.withdraw({ kind: "noOlm", peer, noticeId: command.noticeId });
        return;
      case "reportPeerReachable":
        if (hooks.onPeerReachable === undefined) return;
        return callHook(hooks, "onPeerReachable", callTimeoutMs, () =>
          hooks.onPeerReachable?.({
            device,
            unreachableSince: clock.toWall(command.unreachableSince),
            at: clock.wall(),
          }),
        ).then(() => undefined);
      case "claimKeyAndSendDummy":
        return this.#reply(device, peer, command.replyId, "newSession", () =>
          this.#replyWithNewSession(device),
        );
      case "sendDummy":
        return this.#reply(device, peer, command.replyId, "existingSession", () =>
          this.#encryptDummy(device),
        );
      case "ensureDummyQueued":
        return this.#ensureDummyQueued(device, peer, command.replyId).then(() => undefined);
      // The share's caller reads these off the step: they decide, they do not act.
      case "claimForShare":
      case "skipClaim":
        return;
      case "reportRepliedToNotice": {
        if (hooks.onRepliedToNotice === undefined) return;
        const noticeAt = this.snapshot(device, peer).context.lastNoticeReceivedAt;
        return callHook(hooks, "onRepliedToNotice", callTimeoutMs, () =>
          hooks.onRepliedToNotice?.({
            device,
            newSession: command.newSession,
            noticeReceivedAt: noticeAt === null ? null : clock.toWall(noticeAt),
            at: clock.wall(),
          }),
        ).then(() => undefined);
      }
    }
  }

  #queueNoOlm(device: PeerDevice, peer: PeerKey, noticeId: number): void {
    this.parts.outbox.enqueue({
      userId: device.userId,
      deviceId: device.deviceId,
      eventType: WITHHELD,
      content: this.parts.noOlmContent,
      origin: { kind: "noOlm", peer, noticeId },
    });
  }

  /**
   * Runs a reply's work and always answers the machine with REPLY_SUCCEEDED or REPLY_FAILED,
   * whatever the work does (fails, throws): a reply can never be left in flight.
   */
  async #reply(
    device: PeerDevice,
    peer: PeerKey,
    replyId: number,
    kind: "newSession" | "existingSession",
    work: () => Promise<ReplyWork> | ReplyWork,
  ): Promise<ReplyOutcome> {
    let done: ReplyWork;
    try {
      done = await work();
    } catch (thrown) {
      this.#reportError(thrown, "reply");
      done = { ok: false };
    }
    if (done.ok) this.#queueDummyMessage(device, peer, replyId, done.content);
    const at = this.now();
    // Delivery (REPLY_SUCCEEDED) comes with the homeserver's ack of the request carrying it.
    await this.drive(
      device,
      done.ok ? { type: "DUMMY_QUEUED", at, replyId } : { type: "REPLY_FAILED", at, replyId },
      peer,
    );
    return done.ok ? kind : "failed";
  }

  /** After a restart: the stored m.dummy is still pending, or a new one goes under the same id. */
  async #ensureDummyQueued(device: PeerDevice, peer: PeerKey, replyId: number): Promise<void> {
    if (this.parts.outbox.holds({ kind: "dummy", peer, replyId })) return;
    const encrypted = this.#encryptDummy(device);
    if (encrypted.ok) {
      this.#queueDummyMessage(device, peer, replyId, encrypted.content);
      return;
    }
    await this.drive(device, { type: "REPLY_FAILED", at: this.now(), replyId }, peer);
  }

  /**
   * Whether a message of a request that failed before is still worth sending: a per-session
   * notice always is; an m.no_olm only while its episode waits for it; an m.dummy only while its
   * reply waits for it (a session may have ended the episode, a restart may have replaced it).
   */
  stillWanted(origin: OutboxOrigin): boolean {
    if (origin.kind === "sessionWithheld") return true;
    const state = this.#states.read(origin.peer);
    if (state === undefined) return false;
    const olm = olmLeafOf(state.leaves);
    const reply = replyLeafOf(state.leaves);
    if (origin.kind === "noOlm") {
      return olm === "noticePending" && state.context.noticeId === origin.noticeId;
    }
    return (
      (reply === "newSessionDummyQueued" || reply === "existingSessionDummyQueued") &&
      state.context.replyId === origin.replyId
    );
  }

  /** Tells the machine how the request carrying this message went. */
  settle(origin: OutboxOrigin, sent: boolean): Drive | undefined {
    if (origin.kind === "sessionWithheld") return;
    const { peer } = origin;
    // Only a device with work in flight can take an outcome (a notice pending, a reply's m.dummy
    // queued); for any other the event would be ignored.
    const device = this.#inFlight.get(peer);
    if (device === undefined) return;
    const at = this.now();
    if (origin.kind === "noOlm") {
      const { noticeId } = origin;
      return this.drive(
        device,
        sent ? { type: "NOTICE_SENT", at, noticeId } : { type: "NOTICE_SEND_FAILED", at, noticeId },
        peer,
      );
    }
    if (sent)
      return this.drive(device, { type: "REPLY_SUCCEEDED", at, replyId: origin.replyId }, peer);
    return undefined;
  }

  /** R1 without a session: claim one key, verify and use it, then encrypt m.dummy over it. */
  async #replyWithNewSession(device: PeerDevice): Promise<ReplyWork> {
    const { transport, olm, callTimeoutMs } = this.parts;
    // A session may exist already (restored, or made by a share meanwhile): R1 says use it.
    if (!olm.hasSession(device)) {
      // The reply is durable before its claim: a restart during it resumes, never forgets it.
      await this.parts.commit();
      const response = await safeClaimKeys(
        transport,
        {
          one_time_keys: { [device.userId]: { [device.deviceId]: "signed_curve25519" } },
          timeout: 10_000,
        },
        callTimeoutMs,
      );
      const claimed = response.ok ? parseKeysClaimResponse(response.value) : response;
      const key = claimed.ok ? claimed.value.keyFor(device.userId, device.deviceId) : undefined;
      // R3: no key, or a key that does not verify: no m.dummy and no m.no_olm back.
      if (key === undefined || !olm.createOutboundSession(device, key).ok) return { ok: false };
    }
    return this.#encryptDummy(device);
  }

  #encryptDummy(device: PeerDevice): ReplyWork {
    const encrypted = this.parts.olm.encrypt(device, "m.dummy", {});
    return encrypted.ok ? { ok: true, content: encrypted.value } : { ok: false };
  }

  #queueDummyMessage(device: PeerDevice, peer: PeerKey, replyId: number, content: JsonObject) {
    this.parts.outbox.enqueue({
      userId: device.userId,
      deviceId: device.deviceId,
      eventType: ENCRYPTED,
      content,
      origin: { kind: "dummy", peer, replyId },
    });
  }
}

const INITIAL_LEAVES = codeOfLeaves("noSession", "idle");
const INITIAL_STATE: PeerState = { leaves: INITIAL_LEAVES, context: initialPeerContext };

/** Per leaf pair: a notice not yet acknowledged, or a reply under way. */
const WORK_IN_FLIGHT: readonly boolean[] = Array.from({ length: 24 }, (_, code) => {
  const reply = replyLeafOf(code);
  return olmLeafOf(code) === "noticePending" || (reply !== "idle" && reply !== "backingOff");
});

const snapshotOf = (state: PeerState): PeerSnapshot => ({
  value: stateValueOf(state.leaves),
  context: state.context,
});

function sameState(a: PeerState, b: PeerState): boolean {
  return a.leaves === b.leaves && samePeerContext(a.context, b.context);
}

type ReplyWork = { readonly ok: true; readonly content: JsonObject } | { readonly ok: false };

/** A step and its commands: done, or a promise when a command had to wait. */
export type Drive = Driven | Promise<Driven>;

export interface Driven {
  readonly step: StepResult;
  readonly reply: ReplyOutcome;
}
