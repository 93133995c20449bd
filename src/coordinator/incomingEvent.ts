import { findKeyOwner, type KeyOwner } from "../devices/directoryLookup.js";
import type { DeviceDirectory, PeerDevice } from "../devices/peerDevice.js";
import { decodeWithheldEvent } from "../events/decodeWithheld.js";
import { copyJson, isJsonObject } from "../events/json.js";
import {
  type Curve25519PublicKey,
  parseCurve25519PublicKey,
  parseUserId,
  type UserId,
} from "../events/matrixIds.js";
import { OLM_ALGORITHM } from "../olm/olmBackend.js";
import type { GuardedOlm } from "./guardedOlm.js";
import type { IncomingResult } from "./keyWithholdingTypes.js";
import type { PeerDriver } from "./peerDriver.js";
import type { ReceivedWithheld } from "./receivedWithheld.js";

export interface IncomingParts {
  readonly olm: GuardedOlm;
  readonly devices: DeviceDirectory;
  readonly driver: PeerDriver;
  readonly received: ReceivedWithheld;
}

/** Handles one to-device event from /sync. Every refusal is a typed result. */
export async function handleIncoming(parts: IncomingParts, raw: unknown): Promise<IncomingResult> {
  const type = typeof raw === "object" && raw !== null ? Reflect.get(raw, "type") : undefined;
  if (type === "m.room_key.withheld") return handleWithheld(parts, raw);
  if (type === "m.room.encrypted") return handleEncrypted(parts, raw);
  return { kind: "notHandled", type: typeof type === "string" ? type.slice(0, 255) : "" };
}

async function handleWithheld(parts: IncomingParts, raw: unknown): Promise<IncomingResult> {
  const decoded = decodeWithheldEvent(raw);
  if (!decoded.ok) {
    const { reason, path, detail } = decoded;
    return {
      kind: "rejected",
      reason: "malformedEvent",
      detail,
      rejection: { reason, path, detail },
    };
  }
  const { sender, content } = decoded.value;
  // Notices travel in cleartext: only the device list says who may speak for a key.
  const owner = senderDevice(parts, sender, content.senderKey);
  if (owner.kind !== "found") return owner.refusal;
  const device = owner.device;
  if (content.fromDevice !== undefined && content.fromDevice !== device.deviceId) {
    return {
      kind: "rejected",
      reason: "fromDeviceMismatch",
      detail: `from_device ${content.fromDevice} does not own the sender key (${device.deviceId} does)`,
    };
  }
  if (content.kind === "noOlm") {
    // R1: a session the backend already holds (restored, made by a share) is the one to answer on.
    await parts.driver.syncSession(device);
    const driven = await parts.driver.drive(device, {
      type: "NOTICE_RECEIVED",
      at: parts.driver.now(),
    });
    return { kind: "noOlmNotice", device, reply: driven.reply };
  }
  parts.received.record(content);
  return { kind: "sessionWithheld", device, content };
}

async function handleEncrypted(parts: IncomingParts, raw: unknown): Promise<IncomingResult> {
  const sender = parseUserId(Reflect.get(raw as object, "sender"), ["sender"]);
  if (!sender.ok) return malformed(sender.detail);
  const content = copyJson(Reflect.get(raw as object, "content"), ["content"]);
  if (!content.ok) return malformed(content.detail);
  if (!isJsonObject(content.value)) return malformed("content is not an object");
  // Megolm room events are not ours to decrypt.
  if (content.value.algorithm !== OLM_ALGORITHM)
    return { kind: "notHandled", type: "m.room.encrypted" };
  const senderKey = parseCurve25519PublicKey(content.value.sender_key, ["content", "sender_key"]);
  if (!senderKey.ok) return malformed(senderKey.detail);
  const owner = senderDevice(parts, sender.value, senderKey.value);
  if (owner.kind !== "found") return owner.refusal;
  const device = owner.device;
  const decrypted = parts.olm.decrypt(device, content.value);
  if (!decrypted.ok) {
    const { reason, detail } = decrypted;
    return { kind: "rejected", reason: "undecryptable", detail, rejection: { reason, detail } };
  }
  // N4: a pre-key message that decrypted means an Olm session with this device now exists.
  if (decrypted.value.newSession) {
    await parts.driver.drive(device, {
      type: "SESSION_ESTABLISHED",
      at: parts.driver.now(),
      origin: "inbound",
    });
  }
  return { kind: "decrypted", device, ...decrypted.value };
}

type Sender =
  | { readonly kind: "found"; readonly device: PeerDevice }
  | { readonly kind: "refused"; readonly refusal: IncomingResult };

/** Who sent it, by the device list; never ourselves. */
function senderDevice(
  parts: IncomingParts,
  sender: UserId,
  senderKey: Curve25519PublicKey,
): Sender {
  const own = parts.olm.ownDevice;
  if (sender === own.userId && senderKey === own.curve25519) {
    return refused("ownDevice", `${sender} with key ${senderKey} is this device`);
  }
  const owner: KeyOwner = findKeyOwner(parts.devices, sender, senderKey);
  switch (owner.kind) {
    case "found":
      return owner;
    case "notOwned":
      return refused("senderDoesNotOwnKey", `${sender} has no device with key ${senderKey}`);
    case "unknownUser":
      return refused(
        "unknownSender",
        `no device list for ${sender}: refresh it, then feed this event again`,
      );
    case "failed":
      return refused("deviceListFailed", owner.detail);
  }
}

const refused = (
  reason: "ownDevice" | "senderDoesNotOwnKey" | "unknownSender" | "deviceListFailed",
  detail: string,
): Sender => ({ kind: "refused", refusal: { kind: "rejected", reason, detail } });

const malformed = (detail: string): IncomingResult => ({
  kind: "rejected",
  reason: "malformedEvent",
  detail,
});
