import { isJsonObject, type JsonObject, type JsonValue } from "../../src/events/json.js";
import type { DeviceRef, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import type { Transport } from "../../src/transport/transport.js";
import type { AliceProcess } from "./aliceProcess.js";
import type { Call, CallResult, CommandOp } from "./ipcProtocol.js";
import type { KillPlan } from "./killPlan.js";

/*
 * The parent's side of alice's network: answers the child's transport calls through the
 * homeserver double (spec checks, txnId de-duplication, /keys/claim), keeps alice's /sync
 * position (events not acknowledged are delivered again, as after a since token that was never
 * saved), and kills the child where the kill plan says: before applying a call, or after
 * applying it and before answering.
 */

/** A one-time key alice claimed: ties a session a peer sees to when alice made it. */
export interface AliceClaim {
  readonly step: number;
  readonly time: number;
  readonly userId: string;
  readonly deviceId: string;
  /** The public one-time key (unpadded base64). */
  readonly key: string;
}

export interface StoryPosition {
  readonly step: number;
  readonly time: number;
}

export class CrashRelay {
  readonly #hs: InMemoryHomeserver;
  readonly #alice: DeviceRef;
  readonly #transport: Transport;
  readonly #kills: KillPlan | undefined;
  readonly #position: () => StoryPosition;
  #inbox: { readonly seq: number; readonly event: JsonObject }[] = [];
  #seq = 0;
  #phase: "startup" | "command" = "startup";
  #op: CommandOp | "startup" = "startup";
  #sendsBefore = 0;
  readonly claims: AliceClaim[] = [];

  constructor(
    hs: InMemoryHomeserver,
    alice: DeviceRef,
    kills: KillPlan | undefined,
    position: () => StoryPosition,
  ) {
    this.#hs = hs;
    this.#alice = alice;
    this.#transport = hs.transportFor(alice.userId, alice.deviceId);
    this.#kills = kills;
    this.#position = position;
  }

  /** A child starts up, or a command starts (each attempt): kill points are counted from here. */
  begin(phase: "startup" | "command", op: CommandOp | "startup"): void {
    this.#phase = phase;
    this.#op = op;
    this.#sendsBefore = 0;
  }

  /** Events waiting for alice's acknowledgement (delivered, perhaps handled, not acknowledged). */
  get unacknowledged(): number {
    return this.#inbox.length;
  }

  async handle(child: AliceProcess, call: Call, answer: (result: CallResult) => void) {
    const phase = this.#phase;
    const decision = this.#kills?.onCall({
      phase,
      op: this.#op,
      call,
      sendsBefore: this.#sendsBefore,
    });
    if (call.op === "sendToDevice") this.#sendsBefore += 1;
    if (decision !== undefined && !decision.applyFirst) {
      this.#kill(child, decision.point, phase);
      return;
    }
    const result = await this.#apply(call);
    if (decision !== undefined) {
      this.#kill(child, decision.point, phase);
      return;
    }
    answer(result);
  }

  #kill(
    child: AliceProcess,
    point: Parameters<KillPlan["record"]>[0],
    phase: "startup" | "command",
  ) {
    if (!child.alive) return;
    this.#kills?.record(point, phase);
    child.kill();
  }

  async #apply(call: Call): Promise<CallResult> {
    switch (call.op) {
      case "sendToDevice": {
        const sent = await this.#transport.sendToDevice(call.request);
        return sent.ok ? { ok: true, value: undefined } : sent;
      }
      case "claimKeys": {
        const result = await this.#transport.claimKeys(call.request);
        if (result.ok) this.#recordClaims(result.value);
        return result;
      }
      case "uploadKeys": {
        const uploaded = this.#hs.uploadKeys(this.#alice.userId, this.#alice.deviceId, call.body);
        return uploaded.ok
          ? { ok: true, value: undefined }
          : { ok: false, reason: "rejected", detail: uploaded.problems.join("; ") };
      }
      case "syncPull": {
        for (const event of this.#hs.sync(this.#alice.userId, this.#alice.deviceId)) {
          this.#seq += 1;
          this.#inbox.push({ seq: this.#seq, event: { ...event } });
        }
        return {
          ok: true,
          value: { events: this.#inbox.map((entry) => entry.event), upTo: this.#seq },
        };
      }
      case "commitPoint":
        return { ok: true, value: undefined };
      case "syncAck": {
        const { upTo } = call;
        this.#inbox = this.#inbox.filter((entry) => entry.seq > upTo);
        return { ok: true, value: undefined };
      }
    }
  }

  #recordClaims(response: JsonValue): void {
    const { step, time } = this.#position();
    const byUser = objectAt(objectAt(response)?.one_time_keys);
    for (const [userId, devices] of Object.entries(byUser ?? {})) {
      for (const [deviceId, keys] of Object.entries(objectAt(devices) ?? {})) {
        for (const keyObject of Object.values(objectAt(keys) ?? {})) {
          const key = objectAt(keyObject)?.key;
          if (typeof key === "string") this.claims.push({ step, time, userId, deviceId, key });
        }
      }
    }
  }
}

const objectAt = (value: JsonValue | undefined): JsonObject | undefined =>
  value !== undefined && isJsonObject(value) ? value : undefined;
