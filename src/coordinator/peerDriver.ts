import { type PeerDevice, type PeerKey, peerKeyOf } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import type { PeerCommand } from "../machine/peerCommands.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  peerLeaves,
  sameSnapshot,
} from "../machine/peerSnapshot.js";
import { type StepResult, stepPeer } from "../machine/stepPeer.js";
import { parseKeysClaimResponse } from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { callHook, callHookDetached, reportHookError } from "./callHook.js";
import type { GuardedOlm } from "./guardedOlm.js";
import type { KeyWithholdingHooks, ReplyOutcome } from "./keyWithholdingTypes.js";
import type { Outbox, OutboxOrigin } from "./outbox.js";
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
}

/**
 * The imperative shell around the pure machine: steps a peer's machine, saves the snapshot, and
 * carries out the commands, feeding their outcomes back as events. Everything the protocol
 * decides is decided by `stepPeer`; this only does what it is told, and every command it starts
 * ends in an outcome event, whatever the edges do.
 */
export class PeerDriver {
  /** Devices this coordinator knows a state for: acks are routed by them. */
  readonly #devices = new Map<PeerKey, PeerDevice>();
  /**
   * Each device's current snapshot. The store is written through and read only at start-up, so
   * within a process this is the truth: a store that fails a save cannot make a reply's outcome
   * land on a fresh peer and leave the stored machine mid-reply.
   */
  readonly #snapshots = new Map<PeerKey, PeerSnapshot>();
  /** Restored with work in flight: they get RESUMED before anything else happens to them. */
  readonly #toResume = new Set<PeerKey>();

  constructor(private readonly parts: PeerDriverParts) {}

  now(): number {
    return this.parts.clock.now();
  }

  /** Takes back the peers read from the store at start-up. */
  restore(peers: readonly RestoredPeer[]): void {
    for (const { key, device, snapshot } of peers) {
      this.#devices.set(key, device);
      this.#snapshots.set(key, snapshot);
      if (hasWorkInFlight(snapshot)) this.#toResume.add(key);
    }
  }

  /** Whether restored peers still wait for RESUMED. */
  get resumePending(): boolean {
    return this.#toResume.size > 0;
  }

  /** Feeds RESUMED to every restored peer that had work in flight, and carries out its commands. */
  async resumeAll(): Promise<void> {
    for (const key of [...this.#toResume]) {
      const device = this.#devices.get(key);
      if (device !== undefined) await this.#resume(key, device);
    }
  }

  async #resume(key: PeerKey, device: PeerDevice): Promise<void> {
    if (!this.#toResume.delete(key)) return;
    await this.drive(device, { type: "RESUMED", at: this.now() });
  }

  /** The device's snapshot (the initial one for a device never seen). */
  snapshot(device: PeerDevice): PeerSnapshot {
    return this.#snapshots.get(peerKeyOf(device)) ?? initialPeerSnapshot;
  }

  deviceFor(key: PeerKey): PeerDevice | undefined {
    return this.#devices.get(key);
  }

  /**
   * Brings the machine in line with the backend: a session it holds and the machine does not
   * know of (restored, made elsewhere), or one the machine knows of and the backend no longer
   * holds (dropped by the client).
   */
  async syncSession(device: PeerDevice): Promise<void> {
    const has = this.parts.olm.hasSession(device);
    const established = peerLeaves(this.snapshot(device).value).olm === "established";
    if (has && !established) {
      await this.drive(device, { type: "SESSION_ESTABLISHED", at: this.now(), origin: "existing" });
    } else if (!has && established) {
      await this.drive(device, { type: "SESSION_LOST", at: this.now() });
    }
  }

  /**
   * Feeds one event to the device's machine and carries out what it commands (which may feed
   * it further events). Returns the first step and how a reply it started ended, if any.
   */
  async drive(device: PeerDevice, event: PeerEvent): Promise<Driven> {
    const key = peerKeyOf(device);
    // Whatever a restored state had in flight is not any more: settle that first.
    if (event.type !== "RESUMED") await this.#resume(key, device);
    const before = this.snapshot(device);
    const step = stepPeer(before, event);
    if (step.kind !== "applied") return { step, reply: "none" };
    this.#devices.set(key, device);
    // A step that only asks for commands (a claim decision, a retry) has nothing to save.
    if (!sameSnapshot(before, step.snapshot)) {
      this.#snapshots.set(key, step.snapshot);
      this.parts.writer.peer(key, peerRecord(device, step.snapshot));
      this.parts.writer.protocolTime(event.at);
    }
    this.#reportStateChange(device, event, before, step.snapshot);
    let reply: ReplyOutcome = "none";
    for (const command of step.commands) {
      const outcome = await this.#carryOut(device, command);
      if (outcome !== undefined) reply = outcome;
    }
    return { step, reply };
  }

  #reportStateChange(
    device: PeerDevice,
    event: PeerEvent,
    before: PeerSnapshot,
    after: PeerSnapshot,
  ) {
    const from = peerLeaves(before.value);
    const to = peerLeaves(after.value);
    if (from.olm === to.olm && from.reply === to.reply) return;
    const { hooks } = this.parts;
    callHookDetached(hooks, "onPeerStateChange", () =>
      hooks.onPeerStateChange?.({ device, event, from, to }),
    );
  }

  #reportError(thrown: unknown, where: string): void {
    reportHookError(this.parts.hooks, thrown, where);
  }

  /** Carries out one command; for a reply, says how it ended. */
  async #carryOut(device: PeerDevice, command: PeerCommand): Promise<ReplyOutcome | undefined> {
    const { outbox, hooks, clock, callTimeoutMs } = this.parts;
    const peer = peerKeyOf(device);
    switch (command.type) {
      case "sendNoOlm":
        this.#queueNoOlm(device, command.noticeId);
        return;
      case "retryNoOlm":
        // A failed request stays in the outbox and goes again on the next flush; after a restart
        // the notice may be nowhere, so it is queued again under the same id.
        if (
          !outbox.holds(
            (o) => o.kind === "noOlm" && o.peer === peer && o.noticeId === command.noticeId,
          )
        ) {
          this.#queueNoOlm(device, command.noticeId);
        }
        return;
      case "withdrawNoOlm":
        outbox.withdraw(
          (o) => o.kind === "noOlm" && o.peer === peer && o.noticeId === command.noticeId,
        );
        return;
      case "reportPeerReachable":
        await callHook(hooks, "onPeerReachable", callTimeoutMs, () =>
          hooks.onPeerReachable?.({
            device,
            unreachableSince: clock.toWall(command.unreachableSince),
            at: clock.wall(),
          }),
        );
        return;
      case "claimKeyAndSendDummy":
        return this.#reply(device, command.replyId, "newSession", () =>
          this.#replyWithNewSession(device),
        );
      case "sendDummy":
        return this.#reply(device, command.replyId, "existingSession", () =>
          this.#encryptDummy(device),
        );
      case "ensureDummyQueued":
        await this.#ensureDummyQueued(device, command.replyId);
        return;
      // The share's caller reads these off the step: they decide, they do not act.
      case "claimForShare":
      case "skipClaim":
        return;
      case "reportRepliedToNotice": {
        const noticeAt = this.snapshot(device).context.lastNoticeReceivedAt;
        await callHook(hooks, "onRepliedToNotice", callTimeoutMs, () =>
          hooks.onRepliedToNotice?.({
            device,
            newSession: command.newSession,
            noticeReceivedAt: noticeAt === null ? null : clock.toWall(noticeAt),
            at: clock.wall(),
          }),
        );
        return;
      }
    }
  }

  #queueNoOlm(device: PeerDevice, noticeId: number): void {
    this.parts.outbox.enqueue({
      userId: device.userId,
      deviceId: device.deviceId,
      eventType: WITHHELD,
      content: this.parts.noOlmContent,
      origin: { kind: "noOlm", peer: peerKeyOf(device), noticeId },
    });
  }

  /**
   * Runs a reply's work and always answers the machine with REPLY_SUCCEEDED or REPLY_FAILED,
   * whatever the work does (fails, throws): a reply can never be left in flight.
   */
  async #reply(
    device: PeerDevice,
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
    if (done.ok) this.#queueDummyMessage(device, replyId, done.content);
    const at = this.now();
    // Delivery (REPLY_SUCCEEDED) comes with the homeserver's ack of the request carrying it.
    await this.drive(
      device,
      done.ok ? { type: "DUMMY_QUEUED", at, replyId } : { type: "REPLY_FAILED", at, replyId },
    );
    return done.ok ? kind : "failed";
  }

  /** After a restart: the stored m.dummy is still pending, or a new one goes under the same id. */
  async #ensureDummyQueued(device: PeerDevice, replyId: number): Promise<void> {
    const peer = peerKeyOf(device);
    const held = this.parts.outbox.holds(
      (o) => o.kind === "dummy" && o.peer === peer && o.replyId === replyId,
    );
    if (held) return;
    const encrypted = this.#encryptDummy(device);
    if (encrypted.ok) {
      this.#queueDummyMessage(device, replyId, encrypted.content);
      return;
    }
    await this.drive(device, { type: "REPLY_FAILED", at: this.now(), replyId });
  }

  /**
   * Whether a message of a request that failed before is still worth sending: a per-session
   * notice always is; an m.no_olm only while its episode waits for it; an m.dummy only while its
   * reply waits for it (a session may have ended the episode, a restart may have replaced it).
   */
  stillWanted(origin: OutboxOrigin): boolean {
    if (origin.kind === "sessionWithheld") return true;
    const device = this.#devices.get(origin.peer);
    if (device === undefined) return false;
    const { value, context } = this.snapshot(device);
    const { olm, reply } = peerLeaves(value);
    if (origin.kind === "noOlm") {
      return olm === "noticePending" && context.noticeId === origin.noticeId;
    }
    return (
      (reply === "newSessionDummyQueued" || reply === "existingSessionDummyQueued") &&
      context.replyId === origin.replyId
    );
  }

  /** Tells the machine how the request carrying this message went. */
  async settle(origin: OutboxOrigin, sent: boolean): Promise<void> {
    if (origin.kind === "sessionWithheld") return;
    const device = this.#devices.get(origin.peer);
    if (device === undefined) return;
    const at = this.now();
    if (origin.kind === "noOlm") {
      const { noticeId } = origin;
      await this.drive(
        device,
        sent ? { type: "NOTICE_SENT", at, noticeId } : { type: "NOTICE_SEND_FAILED", at, noticeId },
      );
    } else if (sent) {
      await this.drive(device, { type: "REPLY_SUCCEEDED", at, replyId: origin.replyId });
    }
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

  #queueDummyMessage(device: PeerDevice, replyId: number, content: JsonObject): void {
    this.parts.outbox.enqueue({
      userId: device.userId,
      deviceId: device.deviceId,
      eventType: ENCRYPTED,
      content,
      origin: { kind: "dummy", peer: peerKeyOf(device), replyId },
    });
  }
}

function hasWorkInFlight(snapshot: PeerSnapshot): boolean {
  const { olm, reply } = peerLeaves(snapshot.value);
  return olm === "noticePending" || (reply !== "idle" && reply !== "backingOff");
}

type ReplyWork = { readonly ok: true; readonly content: JsonObject } | { readonly ok: false };

export interface Driven {
  readonly step: StepResult;
  readonly reply: ReplyOutcome;
}
