import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { InMemoryHomeserver, ToDeviceEvent } from "../../src/testing/homeserver/index.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
} from "../../src/transport/transport.js";

/*
 * What crossed the network edge in a demo run, and what each device's machines did, in order:
 * the input of docs/diagrams/demo-sequence.md. Everything random is normalised as it is
 * recorded (txnIds become txn1, txn2, … in order of first use; no keys, no paths), so two runs
 * record the same trace and the generated page can be compared in a test.
 */

export type TraceEntry =
  | { readonly kind: "narration"; readonly at: string; readonly text: string }
  | {
      readonly kind: "sendToDevice";
      readonly from: string;
      readonly eventType: string;
      readonly txnId: string;
      /** One line per message: its recipient and what it carries. */
      readonly messages: readonly string[];
    }
  | { readonly kind: "claimKeys"; readonly from: string; readonly devices: readonly string[] }
  /** The homeserver's answer to the last request of `to`: "200 …" or the failure reason. */
  | { readonly kind: "answer"; readonly to: string; readonly ok: boolean; readonly text: string }
  | { readonly kind: "sync"; readonly device: string; readonly events: readonly string[] }
  | {
      readonly kind: "state";
      readonly owner: string;
      readonly peer: string;
      readonly from: string;
      readonly to: string;
      readonly event: string;
    }
  | { readonly kind: "hook"; readonly owner: string; readonly text: string };

/** `@alice:example.org` + `ALICEPHONE` → `alice/ALICEPHONE`, the demo's device names. */
export const deviceName = (d: { readonly userId: string; readonly deviceId: string }): string =>
  `${d.userId.slice(1).split(":")[0]}/${d.deviceId}`;

// What a to-device message carries, told without any key material.
function describeContent(eventType: string, content: unknown): string {
  const object = content !== null && typeof content === "object" ? (content as JsonObject) : {};
  if (eventType === "m.room_key.withheld") return String(object.code);
  const ciphertext = object.ciphertext;
  const entry =
    ciphertext !== null && typeof ciphertext === "object"
      ? Object.values(ciphertext)[0]
      : undefined;
  const preKey = entry !== null && typeof entry === "object" && "type" in entry && entry.type === 0;
  return eventType === "m.room.encrypted" ? `Olm ${preKey ? "pre-key" : "normal"} message` : "";
}

export class DemoTrace {
  readonly entries: TraceEntry[] = [];
  readonly #txnIds = new Map<string, string>();

  #txn(raw: string): string {
    const known = this.#txnIds.get(raw);
    if (known !== undefined) return known;
    const named = `txn${this.#txnIds.size + 1}`;
    this.#txnIds.set(raw, named);
    return named;
  }

  narration(at: string, text: string): void {
    this.entries.push({ kind: "narration", at, text });
  }

  state(owner: string, peer: PeerDevice, from: string, to: string, event: string): void {
    this.entries.push({ kind: "state", owner, peer: deviceName(peer), from, to, event });
  }

  hook(owner: string, text: string): void {
    this.entries.push({ kind: "hook", owner, text });
  }

  /**
   * The homeserver as the devices see it: every transport call and every /sync is recorded on
   * the way through; everything else goes to `hs` untouched.
   */
  watch(hs: InMemoryHomeserver): InMemoryHomeserver {
    return new Proxy(hs, {
      get: (target, property) => {
        if (property === "transportFor") {
          return (userId: string, deviceId: string) =>
            this.#recording(
              deviceName({ userId, deviceId }),
              target.transportFor(userId, deviceId),
            );
        }
        if (property === "sync") {
          return (userId: string, deviceId: string): ToDeviceEvent[] => {
            const events = target.sync(userId, deviceId);
            this.#synced(deviceName({ userId, deviceId }), events);
            return events;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  #recording(name: string, transport: Transport): Transport {
    return {
      sendToDevice: async (request: SendToDeviceRequest) => {
        this.entries.push({
          kind: "sendToDevice",
          from: name,
          eventType: request.eventType,
          txnId: this.#txn(request.txnId),
          messages: Object.entries(request.body.messages).flatMap(([userId, devices]) =>
            Object.entries(devices).map(([deviceId, content]) => {
              const what = describeContent(request.eventType, content);
              return `${what} to ${deviceName({ userId, deviceId })}`.trim();
            }),
          ),
        });
        const result = await transport.sendToDevice(request);
        this.#answered(name, result.ok, result.ok ? "200 {}" : result.reason);
        return result;
      },
      claimKeys: async (request: KeysClaimRequest) => {
        this.entries.push({
          kind: "claimKeys",
          from: name,
          devices: Object.entries(request.one_time_keys).flatMap(([userId, devices]) =>
            Object.keys(devices).map((deviceId) => deviceName({ userId, deviceId })),
          ),
        });
        const result = await transport.claimKeys(request);
        this.#answered(
          name,
          result.ok,
          result.ok ? `200 ${claimSummary(result.value)}` : result.reason,
        );
        return result;
      },
    };
  }

  #answered(to: string, ok: boolean, text: string): void {
    this.entries.push({ kind: "answer", to, ok, text });
  }

  #synced(device: string, events: readonly ToDeviceEvent[]): void {
    if (events.length === 0) return;
    this.entries.push({
      kind: "sync",
      device,
      events: events.map((e) => {
        const what = describeContent(e.type, e.content);
        return `${e.type}${what === "" ? "" : ` (${what})`} from ${e.sender.slice(1).split(":")[0]}`;
      }),
    });
  }
}

// How many one-time keys a /keys/claim answer handed out.
function claimSummary(body: unknown): string {
  const object = body !== null && typeof body === "object" ? (body as JsonObject) : {};
  const keys = object.one_time_keys;
  let count = 0;
  if (keys !== null && typeof keys === "object") {
    for (const devices of Object.values(keys)) {
      if (devices !== null && typeof devices === "object") {
        for (const entry of Object.values(devices)) {
          if (entry !== null && typeof entry === "object") count += Object.keys(entry).length;
        }
      }
    }
  }
  return count === 0 ? "no one-time key" : `${count} one-time key${count === 1 ? "" : "s"}`;
}
