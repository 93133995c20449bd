import type { PeerDevice } from "../devices/peerDevice.js";
import {
  type InvalidArgument,
  invalidArgument,
  readList,
  readPeerDevice,
} from "../devices/readPeerDevice.js";
import { describeThrown } from "../edges/describeThrown.js";
import type { DecodePath } from "../events/decodeRejection.js";
import {
  parseCurve25519PublicKey,
  parseRoomId,
  parseSessionId,
  parseUserId,
} from "../events/matrixIds.js";
import { SENDABLE_SESSION_CODES } from "../events/withheldCode.js";
import { MAX_REASON_LENGTH } from "../events/withheldContent.js";
import { ok, type Result } from "../result.js";
import type {
  SessionWithheldRequest,
  ShareOutcome,
  UndecryptableQuery,
} from "./keyWithholdingTypes.js";

/*
 * The public methods' arguments, read at run time: TypeScript's types vanish at the boundary,
 * and a caller in plain JS (or a bug) can pass anything. Each reader rebuilds a fresh value of
 * exactly the documented shape or names what is wrong and where.
 */

const NO_PATH: DecodePath = Object.freeze([]);

/** Entries accepted in one call: a few times the largest rooms' device counts. */
export const MAX_ENTRIES_PER_CALL = 1_000_000;

/** One entry of a list argument: read, or refused with its index. */
export type Entry<T> =
  | { readonly ok: true; readonly index: number; readonly value: T }
  | ({ readonly ok: false; readonly index: number } & InvalidArgument);

export function readEntries<T>(
  input: unknown,
  name: string,
  readOne: (entry: unknown, path: DecodePath) => Result<T, InvalidArgument>,
): Result<readonly Entry<T>[], InvalidArgument> {
  const list = readList(input, [name], MAX_ENTRIES_PER_CALL);
  if (!list.ok) return list;
  return ok(
    list.value.map((entry, index): Entry<T> => {
      // Read relative to the entry; the full path is only built for a refusal.
      const read = readOne(entry, NO_PATH);
      return read.ok
        ? { ok: true, index, value: read.value }
        : { ...read, path: [name, index, ...read.path], index };
    }),
  );
}

export const readDevice = (entry: unknown, path: DecodePath): Result<PeerDevice, InvalidArgument> =>
  readPeerDevice(entry, path);

export function readShareOutcome(
  entry: unknown,
  path: DecodePath,
): Result<ShareOutcome, InvalidArgument> {
  return guarded(path, () => {
    if (typeof entry !== "object" || entry === null)
      return invalidArgument(path, "expected { device, outcome }");
    const device = readPeerDevice(Reflect.get(entry, "device"), NO_PATH);
    if (!device.ok) return invalidArgument([...path, "device", ...device.path], device.detail);
    const outcome: unknown = Reflect.get(entry, "outcome");
    if (outcome !== "established" && outcome !== "failed") {
      return invalidArgument([...path, "outcome"], 'outcome must be "established" or "failed"');
    }
    return ok({ device: device.value, outcome });
  });
}

export function readSessionWithheldRequest(
  entry: unknown,
  path: DecodePath,
): Result<SessionWithheldRequest, InvalidArgument> {
  return guarded(path, () => {
    if (typeof entry !== "object" || entry === null) {
      return invalidArgument(path, "expected { device, code, roomId, sessionId, reason? }");
    }
    const device = readPeerDevice(Reflect.get(entry, "device"), [...path, "device"]);
    if (!device.ok) return device;
    const code: unknown = Reflect.get(entry, "code");
    const sendable = SENDABLE_SESSION_CODES.find((known) => known === code);
    if (sendable === undefined) {
      return invalidArgument(
        [...path, "code"],
        `code must be one of ${SENDABLE_SESSION_CODES.join(", ")} (m.no_olm is sent by the library itself)`,
      );
    }
    const roomId = parseRoomId(Reflect.get(entry, "roomId"), [...path, "roomId"]);
    if (!roomId.ok) return invalidArgument(roomId.path, roomId.detail);
    const sessionId = parseSessionId(Reflect.get(entry, "sessionId"), [...path, "sessionId"]);
    if (!sessionId.ok) return invalidArgument(sessionId.path, sessionId.detail);
    const reason: unknown = Reflect.get(entry, "reason");
    if (reason !== undefined && (typeof reason !== "string" || reason.length > MAX_REASON_LENGTH)) {
      return invalidArgument(
        [...path, "reason"],
        `reason must be a string of at most ${MAX_REASON_LENGTH} characters`,
      );
    }
    return ok({
      device: device.value,
      code: sendable,
      roomId: roomId.value,
      sessionId: sessionId.value,
      ...(reason === undefined ? {} : { reason }),
    });
  });
}

export function readUndecryptableQuery(
  input: unknown,
): Result<UndecryptableQuery, InvalidArgument> {
  const path = ["query"];
  return guarded(path, () => {
    if (typeof input !== "object" || input === null) {
      return invalidArgument(
        path,
        "expected { sender, senderKey, roomId, sessionId, originServerTs }",
      );
    }
    const sender = parseUserId(Reflect.get(input, "sender"), [...path, "sender"]);
    if (!sender.ok) return invalidArgument(sender.path, sender.detail);
    const senderKey = parseCurve25519PublicKey(Reflect.get(input, "senderKey"), [
      ...path,
      "senderKey",
    ]);
    if (!senderKey.ok) return invalidArgument(senderKey.path, senderKey.detail);
    const roomId = parseRoomId(Reflect.get(input, "roomId"), [...path, "roomId"]);
    if (!roomId.ok) return invalidArgument(roomId.path, roomId.detail);
    const sessionId = parseSessionId(Reflect.get(input, "sessionId"), [...path, "sessionId"]);
    if (!sessionId.ok) return invalidArgument(sessionId.path, sessionId.detail);
    const originServerTs: unknown = Reflect.get(input, "originServerTs");
    if (typeof originServerTs !== "number" || !Number.isFinite(originServerTs)) {
      return invalidArgument(
        [...path, "originServerTs"],
        "originServerTs must be a finite number of ms",
      );
    }
    return ok({
      sender: sender.value,
      senderKey: senderKey.value,
      roomId: roomId.value,
      sessionId: sessionId.value,
      originServerTs,
    });
  });
}

function guarded<T>(
  path: DecodePath,
  read: () => Result<T, InvalidArgument>,
): Result<T, InvalidArgument> {
  try {
    return read();
  } catch (thrown) {
    return invalidArgument(path, `reading the argument threw ${describeThrown(thrown, 80)}`);
  }
}
