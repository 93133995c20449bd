import { type PeerDevice, type PeerKey, peerKeyOf } from "../devices/peerDevice.js";
import type { JsonObject } from "../events/json.js";
import type { PeerCommand } from "../machine/peerCommands.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  peerLeaves,
  restorePeerSnapshot,
} from "../machine/peerSnapshot.js";
import { type StepResult, stepPeer } from "../machine/stepPeer.js";
import type { PeerStore } from "../store/peerStore.js";
import { parseKeysClaimResponse } from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { callHook, callHookDetached, reportHookError } from "./callHook.js";
import type { GuardedOlm } from "./guardedOlm.js";
import type { KeyWithholdingHooks, ReplyOutcome } from "./keyWithholdingTypes.js";
import type { Outbox } from "./outbox.js";
import type { ProtocolClock } from "./protocolClock.js";
import { safeClaimKeys } from "./safeTransport.js";

const WITHHELD = "m.room_key.withheld";
const ENCRYPTED = "m.room.encrypted";

export interface PeerDriverParts {
  readonly olm: GuardedOlm;
  readonly transport: Transport;
  readonly store: PeerStore;
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
  /** Devices touched in this process: acks are routed by them, and the rest get RESUMED first. */
  readonly #devices = new Map<PeerKey, PeerDevice>();

  constructor(private readonly parts: PeerDriverParts) {}

  now(): number {
    return this.parts.clock.now();
  }

  /**
   * The last snapshot this process stepped each device to. Within a process it is the truth: a
   * store that later answers garbage, or fails a save, cannot make a reply's outcome land on a
   * fresh peer and leave the stored machine mid-reply. The store is read once per device.
   */
  readonly #snapshots = new Map<PeerKey, PeerSnapshot>();

  /** The device's snapshot; anything unreadable in the store counts as a fresh peer. */
  snapshot(device: PeerDevice): PeerSnapshot {
    return this.#snapshots.get(peerKeyOf(device)) ?? this.#readStored(device);
  }

  #readStored(device: PeerDevice): PeerSnapshot {
    let stored: unknown;
    try {
      stored = this.parts.store.get(peerKeyOf(device));
    } catch (thrown) {
      this.#reportError(thrown, "store.get");
      return initialPeerSnapshot;
    }
    if (stored === undefined) return initialPeerSnapshot;
    // A PeerStore holds snapshots without the format version; restore reads only these fields.
    const restored = restorePeerSnapshot({
      v: 1,
      get value() {
        return Reflect.get(stored as object, "value");
      },
      get context() {
        return Reflect.get(stored as object, "context");
      },
    });
    if (!restored.ok) {
      this.#reportError(new Error(`stored snapshot refused: ${restored.detail}`), "store.get");
      return initialPeerSnapshot;
    }
    return restored.value;
  }

  deviceFor(key: PeerKey): PeerDevice | undefined {
    return this.#devices.get(key);
  }

  /** Tells the machine about a session the backend has and the machine does not know of. */
  async syncSession(device: PeerDevice): Promise<void> {
    if (!this.parts.olm.hasSession(device)) return;
    if (peerLeaves(this.snapshot(device).value).olm === "established") return;
    await this.drive(device, { type: "SESSION_ESTABLISHED", at: this.now(), origin: "existing" });
  }

  /**
   * Feeds one event to the device's machine and carries out what it commands (which may feed
   * it further events). Returns the first step and how a reply it started ended, if any.
   */
  async drive(device: PeerDevice, event: PeerEvent): Promise<Driven> {
    const key = peerKeyOf(device);
    if (!this.#devices.has(key)) {
      this.#devices.set(key, device);
      // First touch in this process: whatever the stored state had in flight is not any more.
      if (hasWorkInFlight(this.snapshot(device))) {
        await this.drive(device, { type: "RESUMED", at: event.at });
      }
    }
    const before = this.snapshot(device);
    const step = stepPeer(before, event);
    if (step.kind !== "applied") return { step, reply: "none" };
    this.#snapshots.set(key, step.snapshot);
    try {
      this.parts.store.set(key, step.snapshot);
    } catch (thrown) {
      // The step stands in this process (its commands must still end in outcomes); only its
      // durable copy is missing, which the next successful save of this device repairs.
      this.#reportError(thrown, "store.set");
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
    await this.drive(
      device,
      done.ok ? { type: "REPLY_SUCCEEDED", at, replyId } : { type: "REPLY_FAILED", at, replyId },
    );
    return done.ok ? kind : "failed";
  }

  /** R1 without a session: claim one key, verify and use it, then encrypt m.dummy over it. */
  async #replyWithNewSession(device: PeerDevice): Promise<ReplyWork> {
    const { transport, olm, callTimeoutMs } = this.parts;
    // A session may exist already (restored, or made by a share meanwhile): R1 says use it.
    if (!olm.hasSession(device)) {
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
  return olm === "noticePending" || reply === "newSession" || reply === "existingSession";
}

type ReplyWork = { readonly ok: true; readonly content: JsonObject } | { readonly ok: false };

export interface Driven {
  readonly step: StepResult;
  readonly reply: ReplyOutcome;
}
