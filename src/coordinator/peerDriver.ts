import { type PeerDevice, type PeerKey, peerKeyOf } from "../devices/peerDevice.js";
import { buildNoOlmNotice } from "../events/buildNotice.js";
import type { PeerCommand } from "../machine/peerCommands.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import { initialPeerSnapshot, type PeerSnapshot, peerLeaves } from "../machine/peerSnapshot.js";
import { type StepResult, stepPeer } from "../machine/stepPeer.js";
import type { OlmBackend } from "../olm/olmBackend.js";
import type { PeerStore } from "../store/peerStore.js";
import { parseKeysClaimResponse } from "../transport/keysClaimResponse.js";
import type { Transport } from "../transport/transport.js";
import { callHook } from "./callHook.js";
import type { KeyWithholdingHooks, ReplyOutcome } from "./keyWithholdingTypes.js";
import type { Outbox } from "./outbox.js";
import { safeClaimKeys } from "./safeTransport.js";

const WITHHELD = "m.room_key.withheld";
const ENCRYPTED = "m.room.encrypted";

export interface PeerDriverParts {
  readonly olm: OlmBackend;
  readonly transport: Transport;
  readonly store: PeerStore;
  readonly outbox: Outbox;
  readonly hooks: KeyWithholdingHooks;
  readonly clock: () => number;
  readonly noOlmReason: string | undefined;
}

/**
 * The imperative shell around the pure machine: steps a peer's machine, saves the snapshot, and
 * carries out the commands, feeding their outcomes back as events. Everything the protocol
 * decides is decided by `stepPeer`; this only does what it is told.
 */
export class PeerDriver {
  /** Devices seen in this process, so acks for queued messages can be routed to their peer. */
  readonly #devices = new Map<PeerKey, PeerDevice>();

  constructor(private readonly parts: PeerDriverParts) {}

  now(): number {
    return this.parts.clock();
  }

  snapshot(device: PeerDevice): PeerSnapshot {
    return this.parts.store.get(peerKeyOf(device)) ?? initialPeerSnapshot;
  }

  deviceFor(key: PeerKey): PeerDevice | undefined {
    return this.#devices.get(key);
  }

  /**
   * Feeds one event to the device's machine and carries out what it commands (which may feed
   * it further events). Returns the first step and how a reply it started ended, if any.
   */
  async drive(device: PeerDevice, event: PeerEvent): Promise<Driven> {
    const key = peerKeyOf(device);
    this.#devices.set(key, device);
    const before = this.snapshot(device);
    const step = stepPeer(before, event);
    if (step.kind !== "applied") return { step, reply: "none" };
    this.parts.store.set(key, step.snapshot);
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
    try {
      this.parts.hooks.onPeerStateChange?.({ device, event, from, to });
    } catch (error) {
      this.parts.hooks.onHookError?.(error, "onPeerStateChange");
    }
  }

  /** Carries out one command; for a reply, says how it ended. */
  async #carryOut(device: PeerDevice, command: PeerCommand): Promise<ReplyOutcome | undefined> {
    const { outbox, hooks, olm } = this.parts;
    const peer = peerKeyOf(device);
    switch (command.type) {
      case "sendNoOlm":
        outbox.enqueue({
          userId: device.userId,
          deviceId: device.deviceId,
          eventType: WITHHELD,
          content: buildNoOlmNotice({
            senderKey: olm.ownDevice.curve25519,
            fromDevice: olm.ownDevice.deviceId,
            ...(this.parts.noOlmReason === undefined ? {} : { reason: this.parts.noOlmReason }),
          }),
          origin: { kind: "noOlm", peer, noticeId: command.noticeId },
        });
        return;
      case "retryNoOlm":
        // The request holding this notice stays in the outbox and goes again on the next flush.
        return;
      case "withdrawNoOlm":
        outbox.withdraw(
          (o) => o.kind === "noOlm" && o.peer === peer && o.noticeId === command.noticeId,
        );
        return;
      case "reportPeerReachable":
        await callHook(hooks, "onPeerReachable", () =>
          hooks.onPeerReachable?.({
            device,
            unreachableSince: command.unreachableSince,
            at: this.now(),
          }),
        );
        return;
      case "claimKeyAndSendDummy":
        return (await this.#replyWithNewSession(device, command.replyId)) ? "newSession" : "failed";
      case "sendDummy":
        return (await this.#sendDummy(device, command.replyId)) ? "existingSession" : "failed";
      case "reportRepliedToNotice":
        await callHook(hooks, "onRepliedToNotice", () =>
          hooks.onRepliedToNotice?.({
            device,
            newSession: command.newSession,
            noticeReceivedAt: this.snapshot(device).context.lastNoticeReceivedAt,
            at: this.now(),
          }),
        );
        return;
    }
  }

  /** R1 without a session: claim one key, verify and use it, then send m.dummy over it. */
  async #replyWithNewSession(device: PeerDevice, replyId: number): Promise<boolean> {
    const { transport, olm } = this.parts;
    const response = await safeClaimKeys(transport, {
      one_time_keys: { [device.userId]: { [device.deviceId]: "signed_curve25519" } },
      timeout: 10_000,
    });
    const claimed = response.ok ? parseKeysClaimResponse(response.value) : response;
    const key = claimed.ok ? claimed.value.keyFor(device.userId, device.deviceId) : undefined;
    // R3: no key, or a key that does not verify: no m.dummy and no m.no_olm back.
    if (key === undefined || !olm.createOutboundSession(device, key).ok) {
      await this.drive(device, { type: "REPLY_FAILED", at: this.now(), replyId });
      return false;
    }
    return this.#sendDummy(device, replyId);
  }

  /** Encrypts m.dummy over the device's session and queues it; the outbox delivers it. */
  async #sendDummy(device: PeerDevice, replyId: number): Promise<boolean> {
    const encrypted = this.parts.olm.encrypt(device, "m.dummy", {});
    if (!encrypted.ok) {
      await this.drive(device, { type: "REPLY_FAILED", at: this.now(), replyId });
      return false;
    }
    this.parts.outbox.enqueue({
      userId: device.userId,
      deviceId: device.deviceId,
      eventType: ENCRYPTED,
      content: encrypted.value,
      origin: { kind: "dummy", peer: peerKeyOf(device), replyId },
    });
    await this.drive(device, { type: "REPLY_SUCCEEDED", at: this.now(), replyId });
    return true;
  }
}

export interface Driven {
  readonly step: StepResult;
  readonly reply: ReplyOutcome;
}
