import fc from "fast-check";
import {
  MEGOLM_ALGORITHM,
  NO_OLM_CODE,
  type NoOlmContent,
  type NoOlmNoticeInput,
  SENDABLE_SESSION_CODES,
  SESSION_WITHHELD_CODES,
  type SessionWithheldContent,
  type SessionWithheldNoticeInput,
  type UnknownCodeContent,
  WITHHELD_EVENT_TYPE,
  type WithheldContent,
  type WithheldEvent,
} from "../../events/index.js";
import { extraArb, jsonArb } from "./jsonArbitraries.js";
import {
  curve25519KeyArb,
  deviceIdArb,
  reasonArb,
  roomIdArb,
  sessionIdArb,
  unknownCodeArb,
  userIdArb,
} from "./matrixIdArbitraries.js";

/**
 * m.room_key.withheld in all its valid forms: typed content as decode produces it, builder
 * inputs, and raw wire events generated independently of the encoder.
 */

// ---- typed content, as decode produces it ----

const commonArb = fc
  .record({
    senderKey: curve25519KeyArb,
    reason: fc.option(reasonArb, { nil: undefined }),
    fromDevice: fc.option(deviceIdArb, { nil: undefined }),
    extra: extraArb,
  })
  .map(({ senderKey, reason, fromDevice, extra }) => ({
    algorithm: MEGOLM_ALGORITHM,
    senderKey,
    ...(reason === undefined ? {} : { reason }),
    ...(fromDevice === undefined ? {} : { fromDevice }),
    extra,
  }));

/**
 * Decoded `m.no_olm` content (`kind: "noOlm"`) as `decodeWithheldContent` returns it: megolm
 * algorithm, a sender key, optional `reason` and `fromDevice`, unknown keys in `extra`.
 */
export const noOlmContentArb: fc.Arbitrary<NoOlmContent> = commonArb.map((common) => ({
  kind: "noOlm",
  code: NO_OLM_CODE,
  ...common,
}));

/**
 * Decoded content withholding one room key (`kind: "session"`): a spec code other than
 * `m.no_olm`, with room and session ids.
 */
export const sessionWithheldContentArb: fc.Arbitrary<SessionWithheldContent> = fc
  .tuple(commonArb, fc.constantFrom(...SESSION_WITHHELD_CODES), roomIdArb, sessionIdArb)
  .map(([common, code, room, session]) => ({
    kind: "session",
    code,
    ...common,
    roomId: room,
    sessionId: session,
  }));

/**
 * Decoded content with a code outside the spec table (`kind: "unknownCode"`, codes from
 * {@link unknownCodeArb}), with room and session ids.
 */
export const unknownCodeContentArb: fc.Arbitrary<UnknownCodeContent> = fc
  .tuple(commonArb, unknownCodeArb, roomIdArb, sessionIdArb)
  .map(([common, code, room, session]) => ({
    kind: "unknownCode",
    code,
    ...common,
    roomId: room,
    sessionId: session,
  }));

/** Decoded content of any of the three kinds, each equally likely. */
export const withheldContentArb: fc.Arbitrary<WithheldContent> = fc.oneof(
  noOlmContentArb,
  sessionWithheldContentArb,
  unknownCodeContentArb,
);

/** Decoded `m.room_key.withheld` events: a sender and content from {@link withheldContentArb}. */
export const withheldEventArb: fc.Arbitrary<WithheldEvent> = fc.record({
  type: fc.constant(WITHHELD_EVENT_TYPE),
  sender: userIdArb,
  content: withheldContentArb,
});

// ---- builder inputs ----

/**
 * Inputs to `buildNoOlmNotice`: sender key and sending device, `reason` present or absent.
 */
export const noOlmNoticeInputArb: fc.Arbitrary<NoOlmNoticeInput> = fc
  .record({
    senderKey: curve25519KeyArb,
    fromDevice: deviceIdArb,
    reason: fc.option(reasonArb, { nil: undefined }),
  })
  .map(({ reason, ...rest }) => ({ ...rest, ...(reason === undefined ? {} : { reason }) }));

/**
 * Inputs to `buildSessionWithheldNotice`: a code from `SENDABLE_SESSION_CODES`, room and
 * session ids, sender key; `fromDevice` and `reason` present or absent.
 */
export const sessionWithheldNoticeInputArb: fc.Arbitrary<SessionWithheldNoticeInput> = fc
  .record({
    code: fc.constantFrom(...SENDABLE_SESSION_CODES),
    roomId: roomIdArb,
    sessionId: sessionIdArb,
    senderKey: curve25519KeyArb,
    fromDevice: fc.option(deviceIdArb, { nil: undefined }),
    reason: fc.option(reasonArb, { nil: undefined }),
  })
  .map(({ fromDevice, reason, ...rest }) => ({
    ...rest,
    ...(fromDevice === undefined ? {} : { fromDevice }),
    ...(reason === undefined ? {} : { reason }),
  }));

// ---- raw wire events, generated independently of the encoder ----

/**
 * A JSON object as it arrives on the wire (snake_case keys, nothing checked): what the raw
 * arbitraries produce, to feed to `decodeWithheldEvent`/`decodeWithheldContent`.
 */
export type RawObject = { readonly [key: string]: unknown };

const optionalWireFields = fc.record(
  { reason: reasonArb, from_device: deviceIdArb },
  { requiredKeys: [] },
);

const rawNoOlmContentArb = fc
  .tuple(
    curve25519KeyArb,
    optionalWireFields,
    // Present on some senders' m.no_olm notices; the codec must ignore them whatever they hold.
    fc.record({ room_id: jsonArb, session_id: jsonArb }, { requiredKeys: [] }),
  )
  .map(([senderKey, optional, ignored]) => ({
    ...ignored,
    algorithm: MEGOLM_ALGORITHM,
    sender_key: senderKey,
    code: NO_OLM_CODE,
    ...optional,
  }));

/** Wire content naming a room key (any code but m.no_olm). */
export const rawKeyContentArb: fc.Arbitrary<RawObject> = fc
  .tuple(
    curve25519KeyArb,
    fc.oneof(fc.constantFrom(...SESSION_WITHHELD_CODES), unknownCodeArb),
    roomIdArb,
    sessionIdArb,
    optionalWireFields,
  )
  .map(([senderKey, code, room, session, optional]) => ({
    algorithm: MEGOLM_ALGORITHM,
    sender_key: senderKey,
    code,
    room_id: room,
    session_id: session,
    ...optional,
  }));

/** Valid wire content of every kind, with unknown extra keys. */
export const rawWithheldContentArb: fc.Arbitrary<RawObject> = fc
  .tuple(fc.oneof(rawNoOlmContentArb, rawKeyContentArb), extraArb)
  .map(([known, extra]) => ({ ...extra, ...known }));

/** Valid events as /sync delivers them, with unrelated top-level keys the decoder ignores. */
export const rawWithheldEventArb: fc.Arbitrary<RawObject> = fc
  .tuple(
    userIdArb,
    rawWithheldContentArb,
    fc.record(
      // Computed, so "__proto__" is an ordinary key here rather than the literal's prototype.
      { unsigned: jsonArb, ["__proto__"]: jsonArb, origin_server_ts: fc.nat() },
      { requiredKeys: [] },
    ),
  )
  .map(([sender, content, topLevel]) => ({
    ...topLevel,
    type: WITHHELD_EVENT_TYPE,
    sender,
    content,
  }));
