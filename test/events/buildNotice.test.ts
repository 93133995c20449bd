import { describe, expect, expectTypeOf, it } from "vitest";
import {
  buildNoOlmNotice,
  buildSessionWithheldNotice,
  decodeWithheldContent,
  decodeWithheldEvent,
  defaultWithheldReason,
  MAX_REASON_LENGTH,
  type NoOlmWireContent,
  SENDABLE_SESSION_CODES,
  type SessionWithheldNoticeInput,
  WITHHELD_EVENT_TYPE,
} from "../../src/events/index.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";
import { ALICE, ALICE_DEVICE, ALICE_KEY, ROOM, SESSION, unwrap } from "./fixtures.js";

/** Both spec oracles: the content component, and the full event wrapped as the spec defines it. */
function specErrors(content: object): string[] {
  return [
    ...validateAgainstSpec(SPEC_SCHEMAS.withheldContent, content),
    ...validateAgainstSpec(SPEC_SCHEMAS.withheldEvent, { type: WITHHELD_EVENT_TYPE, content }),
  ];
}

describe("buildNoOlmNotice", () => {
  it("sends the table's default reason and the sending device", () => {
    expect(buildNoOlmNotice({ senderKey: ALICE_KEY, fromDevice: ALICE_DEVICE })).toEqual({
      algorithm: "m.megolm.v1.aes-sha2",
      sender_key: ALICE_KEY,
      code: "m.no_olm",
      reason: "Unable to establish a secure channel.",
      from_device: ALICE_DEVICE,
    });
  });

  it("keeps a custom reason", () => {
    const notice = buildNoOlmNotice({
      senderKey: ALICE_KEY,
      fromDevice: ALICE_DEVICE,
      reason: "Pas de canal.",
    });
    expect(notice.reason).toBe("Pas de canal.");
  });

  it("as a received event it decodes with its sender", () => {
    const content = buildNoOlmNotice({ senderKey: ALICE_KEY, fromDevice: ALICE_DEVICE });
    const event = unwrap(
      decodeWithheldEvent({ type: WITHHELD_EVENT_TYPE, sender: ALICE, content }),
    );
    expect(event.content.kind).toBe("noOlm");
  });
});

describe("buildSessionWithheldNotice", () => {
  const base = { roomId: ROOM, sessionId: SESSION, senderKey: ALICE_KEY } as const;

  it.each(SENDABLE_SESSION_CODES)(
    "%s gets its default reason and validates against the spec",
    (code) => {
      const notice = buildSessionWithheldNotice({ ...base, code });
      expect(notice).toEqual({
        algorithm: "m.megolm.v1.aes-sha2",
        sender_key: ALICE_KEY,
        code,
        room_id: ROOM,
        session_id: SESSION,
        reason: defaultWithheldReason(code),
      });
      expect(specErrors(notice)).toEqual([]);
    },
  );

  it("m.history_not_shared cannot be built", () => {
    // @ts-expect-error the spec says clients SHOULD NOT send this code in m.room_key.withheld
    const input: SessionWithheldNoticeInput = { ...base, code: "m.history_not_shared" };
    expect(input.code).toBe("m.history_not_shared");
    expectTypeOf<SessionWithheldNoticeInput["code"]>().not.toEqualTypeOf<"m.history_not_shared">();
  });
});

describe("overlong reasons", () => {
  it("are clipped to the limit the decoder keeps, never splitting a surrogate pair", () => {
    const reason = `${"a".repeat(MAX_REASON_LENGTH - 1)}😀 and more`;
    const notice = buildSessionWithheldNotice({
      code: "m.unavailable",
      roomId: ROOM,
      sessionId: SESSION,
      senderKey: ALICE_KEY,
      reason,
    });
    expect(notice.reason).toBe("a".repeat(MAX_REASON_LENGTH - 1));
    expect(decodeWithheldContent(notice).ok).toBe(true);
    const noOlm = buildNoOlmNotice({
      senderKey: ALICE_KEY,
      fromDevice: ALICE_DEVICE,
      reason: "b".repeat(1e6),
    });
    expect(noOlm.reason).toHaveLength(MAX_REASON_LENGTH);
  });
});

describe("wire types", () => {
  it("an m.no_olm notice cannot carry room_id or session_id", () => {
    expectTypeOf<NoOlmWireContent["room_id"]>().toEqualTypeOf<undefined>();
    const notice = buildNoOlmNotice({ senderKey: ALICE_KEY, fromDevice: ALICE_DEVICE });
    // @ts-expect-error room_id is `never` on the no_olm wire type
    const forged: NoOlmWireContent = { ...notice, room_id: ROOM };
    expect(forged.room_id).toBe(ROOM);
  });
});
