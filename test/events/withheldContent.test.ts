import { describe, expect, expectTypeOf, test } from "vitest";
import type {
  NoOlmContent,
  RoomId,
  SessionId,
  SessionWithheldContent,
  UnknownCodeContent,
  WithheldContent,
} from "../../src/events/index.js";
import * as events from "../../src/events/index.js";

describe("the typed model", () => {
  test("m.no_olm content has no room or session by construction", () => {
    expectTypeOf<NoOlmContent>().not.toHaveProperty("roomId");
    expectTypeOf<NoOlmContent>().not.toHaveProperty("sessionId");
    expectTypeOf<SessionWithheldContent>().toHaveProperty("roomId").toEqualTypeOf<RoomId>();
    expectTypeOf<UnknownCodeContent>().toHaveProperty("sessionId").toEqualTypeOf<SessionId>();
  });

  test("`kind` discriminates the union, and narrowing reaches the room", () => {
    expectTypeOf<WithheldContent["kind"]>().toEqualTypeOf<"noOlm" | "session" | "unknownCode">();
    const roomOf = (content: WithheldContent): RoomId | undefined =>
      content.kind === "noOlm" ? undefined : content.roomId;
    expectTypeOf(roomOf).returns.toEqualTypeOf<RoomId | undefined>();
    expectTypeOf<Extract<WithheldContent, { kind: "noOlm" }>["code"]>().toEqualTypeOf<"m.no_olm">();
  });
});

describe("the public surface of src/events", () => {
  test("exports exactly the deliberate runtime names", () => {
    expect(Object.keys(events).sort()).toEqual(
      [
        "MAX_REASON_LENGTH",
        "MEGOLM_ALGORITHM",
        "NO_OLM_CODE",
        "SENDABLE_SESSION_CODES",
        "SESSION_WITHHELD_CODES",
        "SPEC_WITHHELD_CODES",
        "WITHHELD_EVENT_TYPE",
        "buildNoOlmNotice",
        "buildSessionWithheldNotice",
        "classifyWithheldCode",
        "decodeWithheldContent",
        "decodeWithheldEvent",
        "defaultWithheldReason",
        "encodeWithheldContent",
        "isCurve25519PublicKey",
        "isDeviceId",
        "isEd25519PublicKey",
        "isRoomId",
        "isSendableSessionCode",
        "isSessionId",
        "isSpecWithheldCode",
        "isUserId",
        "parseCurve25519PublicKey",
        "parseDeviceId",
        "parseEd25519PublicKey",
        "parseRoomId",
        "parseSessionId",
        "parseUserId",
      ].sort(),
    );
  });

  test("the code table cannot be changed at runtime", () => {
    expect(Object.isFrozen(events.SESSION_WITHHELD_CODES)).toBe(true);
    expect(Object.isFrozen(events.SENDABLE_SESSION_CODES)).toBe(true);
    expect(Object.isFrozen(events.SPEC_WITHHELD_CODES)).toBe(true);
    for (const entry of Object.values(events.SPEC_WITHHELD_CODES))
      expect(Object.isFrozen(entry)).toBe(true);
  });
});
