import { type PeerDevice, type PeerKey, peerKeyOf } from "../devices/peerDevice.js";
import { readPeerDevice } from "../devices/readPeerDevice.js";
import { describeThrown } from "../edges/describeThrown.js";
import { copyJson, isJsonObject, type JsonObject } from "../events/json.js";
import {
  parseCurve25519PublicKey,
  parseDeviceId,
  parseRoomId,
  parseSessionId,
  parseUserId,
} from "../events/matrixIds.js";
import { classifyWithheldCode } from "../events/withheldCode.js";
import { clipReason } from "../events/withheldContent.js";
import { type PeerSnapshot, readPeerSnapshot } from "../machine/peerSnapshot.js";
import { MAX_PEER_ID } from "../machine/timing.js";
import { ok, type Result } from "../result.js";
import type { StoredReceivedWithheld, StoredRequest } from "../store/keyWithholdingStore.js";
import { isUsableTxnId, type OutboxMessage, type OutboxOrigin } from "./outbox.js";

/*
 * The records the coordinator stores, both ways. Writing is plain; reading treats every record
 * as untrusted (a store is an edge): each is rebuilt field by field from checked values, or
 * refused with what is wrong, and a refused record is reported and not acted on.
 */

/** A peer's stored record: the device (so acks can be routed after a restart) and its state. */
export function peerRecord(device: PeerDevice, snapshot: PeerSnapshot): JsonObject {
  return {
    device: {
      userId: device.userId,
      deviceId: device.deviceId,
      curve25519: device.curve25519,
      ed25519: device.ed25519,
    },
    value: snapshot.value,
    context: { ...snapshot.context },
  };
}

export interface RestoredPeer {
  readonly key: PeerKey;
  readonly device: PeerDevice;
  readonly snapshot: PeerSnapshot;
}

type Read<T> = Result<T, { readonly detail: string }>;
const refuse = <T>(detail: string): Read<T> => ({ ok: false, detail });

export function readPeerRecord(key: unknown, record: unknown): Read<RestoredPeer> {
  return guarded(() => {
    if (!isRecord(record)) return refuse("not an object");
    const device = readPeerDevice(record.device, ["device"]);
    if (!device.ok) return refuse(device.detail);
    if (key !== peerKeyOf(device.value)) return refuse("its key does not name its device");
    const snapshot = readPeerSnapshot({ value: record.value, context: record.context });
    if (!snapshot.ok) return refuse(`${snapshot.reason}: ${snapshot.detail}`);
    return ok({ key: key as PeerKey, device: device.value, snapshot: snapshot.value });
  });
}

export function requestRecord(request: {
  readonly txnId: string;
  readonly eventType: string;
  readonly messages: readonly OutboxMessage[];
}): StoredRequest {
  return {
    txnId: request.txnId,
    eventType: request.eventType,
    messages: request.messages.map((message) => ({
      userId: message.userId,
      deviceId: message.deviceId,
      content: message.content,
      origin: { ...message.origin },
    })),
  };
}

export interface RestoredRequest {
  readonly txnId: string;
  readonly eventType: string;
  readonly messages: readonly OutboxMessage[];
}

const EVENT_TYPES: readonly string[] = ["m.room_key.withheld", "m.room.encrypted"];

/** More than any request this library forms (250 by default, 10,000 at most). */
const MAX_STORED_MESSAGES = 10_000;

export function readRequestRecord(record: unknown): Read<RestoredRequest> {
  return guarded(() => {
    if (!isRecord(record)) return refuse("not an object");
    const { txnId, eventType, messages } = record;
    if (typeof txnId !== "string" || !isUsableTxnId(txnId)) return refuse("unusable txnId");
    if (typeof eventType !== "string" || !EVENT_TYPES.includes(eventType)) {
      return refuse("not an event type this library sends");
    }
    if (!Array.isArray(messages) || messages.length === 0) return refuse("no messages");
    if (messages.length > MAX_STORED_MESSAGES) return refuse("too many messages");
    const read: OutboxMessage[] = [];
    for (const [index, message] of messages.entries()) {
      const one = readMessage(message, eventType);
      if (!one.ok) return refuse(`message ${index}: ${one.detail}`);
      read.push(one.value);
    }
    return ok({ txnId, eventType, messages: read });
  });
}

function readMessage(input: unknown, eventType: string): Read<OutboxMessage> {
  if (!isRecord(input)) return refuse("not an object");
  const userId = parseUserId(input.userId);
  const deviceId = parseDeviceId(input.deviceId);
  if (!userId.ok || !deviceId.ok) return refuse("invalid recipient");
  const content = copyJson(input.content);
  if (!content.ok || !isJsonObject(content.value)) return refuse("content is not a JSON object");
  const origin = readOrigin(input.origin);
  if (!origin.ok) return origin;
  const expected = origin.value.kind === "dummy" ? "m.room.encrypted" : "m.room_key.withheld";
  if (eventType !== expected) return refuse("origin does not match the event type");
  return ok({
    userId: userId.value,
    deviceId: deviceId.value,
    eventType,
    content: content.value,
    origin: origin.value,
  });
}

function readOrigin(input: unknown): Read<OutboxOrigin> {
  if (!isRecord(input)) return refuse("origin is not an object");
  const { kind, peer } = input;
  if (typeof peer !== "string" || !isPeerKey(peer)) return refuse("origin names no peer");
  const key = peer as PeerKey;
  switch (kind) {
    case "noOlm":
      return isId(input.noticeId)
        ? ok({ kind, peer: key, noticeId: input.noticeId })
        : refuse("invalid noticeId");
    case "dummy":
      return isId(input.replyId)
        ? ok({ kind, peer: key, replyId: input.replyId })
        : refuse("invalid replyId");
    case "sessionWithheld": {
      const roomId = parseRoomId(input.roomId);
      const sessionId = parseSessionId(input.sessionId);
      if (!roomId.ok || !sessionId.ok) return refuse("invalid room or session id");
      return ok({ kind, peer: key, roomId: roomId.value, sessionId: sessionId.value });
    }
    default:
      return refuse("unknown origin kind");
  }
}

/** A peer key is the JSON of [user id, device id, curve25519 key], each well-formed. */
function isPeerKey(value: string): boolean {
  if (value.length > 1_024) return false;
  let parts: unknown;
  try {
    parts = JSON.parse(value);
  } catch {
    return false;
  }
  if (!Array.isArray(parts) || parts.length !== 3) return false;
  const [userId, deviceId, curve25519] = parts as unknown[];
  const user = parseUserId(userId);
  const device = parseDeviceId(deviceId);
  const key = parseCurve25519PublicKey(curve25519);
  return (
    user.ok &&
    device.ok &&
    key.ok &&
    peerKeyOf({ userId: user.value, deviceId: device.value, curve25519: key.value }) === value
  );
}

/** The key under which a per-session notice counts as sent (one per device and session). */
export const sessionNoticeKey = (peer: PeerKey, roomId: string, sessionId: string): string =>
  JSON.stringify([peer, roomId, sessionId]);

export function readSessionNoticeKey(input: unknown): Read<string> {
  return guarded(() => {
    if (typeof input !== "string" || input.length > 2_048) return refuse("not a notice key");
    const parts: unknown = JSON.parse(input);
    if (!Array.isArray(parts) || parts.length !== 3) return refuse("not a notice key");
    const [peer, roomId, sessionId] = parts as unknown[];
    if (typeof peer !== "string" || !isPeerKey(peer)) return refuse("names no peer");
    if (!parseRoomId(roomId).ok || !parseSessionId(sessionId).ok) return refuse("invalid ids");
    return ok(input);
  });
}

export interface RestoredReceived extends StoredReceivedWithheld {}

export function readReceivedRecord(input: unknown): Read<RestoredReceived> {
  return guarded(() => {
    if (!isRecord(input)) return refuse("not an object");
    const { id, seq, senderKey, roomId, sessionId, code, reason } = input;
    if (typeof id !== "string" || id.length > 4_096) return refuse("invalid id");
    if (!Number.isSafeInteger(seq)) return refuse("invalid seq");
    const sender = parseCurve25519PublicKey(senderKey);
    const room = parseRoomId(roomId);
    const session = parseSessionId(sessionId);
    if (!sender.ok || !room.ok || !session.ok) return refuse("invalid ids");
    const kind = typeof code === "string" ? classifyWithheldCode(code).kind : "invalidCode";
    if (typeof code !== "string" || (kind !== "session" && kind !== "unknownCode")) {
      return refuse("invalid code");
    }
    if (reason !== undefined && typeof reason !== "string") return refuse("invalid reason");
    return ok({
      id,
      seq: seq as number,
      senderKey: sender.value,
      roomId: room.value,
      sessionId: session.value,
      code,
      ...(reason === undefined ? {} : { reason: clipReason(reason) }),
    });
  });
}

function guarded<T>(read: () => Read<T>): Read<T> {
  try {
    return read();
  } catch (thrown) {
    return refuse(`reading it threw ${describeThrown(thrown, 80)}`);
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number =>
  Number.isSafeInteger(x) && Number(x) >= 0 && Number(x) <= MAX_PEER_ID;
