import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  buildNoOlmNotice,
  buildSessionWithheldNotice,
  type DecodeRejection,
  decodeWithheldContent,
  decodeWithheldEvent,
  defaultWithheldReason,
  encodeWithheldContent,
  WITHHELD_EVENT_TYPE,
} from "../../src/events/index.js";
import type { Result } from "../../src/result.js";
import { anyValueArb } from "../../src/testing/arbitraries/jsonArbitraries.js";
import {
  mutatedEventArb,
  nearMissEventArb,
} from "../../src/testing/arbitraries/nearMissArbitraries.js";
import {
  noOlmNoticeInputArb,
  type RawObject,
  rawWithheldEventArb,
  sessionWithheldContentArb,
  sessionWithheldNoticeInputArb,
  withheldContentArb,
  withheldEventArb,
} from "../../src/testing/arbitraries/withheldArbitraries.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";
import { unwrap } from "./fixtures.js";

// Properties of the m.room_key.withheld codec: decode, encode, and the notices we send.
// Kept in one file because importing @fast-check/vitest costs seconds per test file.

const outcome = (result: Result<unknown, DecodeRejection>) =>
  result.ok ? "ok" : { reason: result.reason, path: result.path };

/** Both spec oracles: the content component, and the full event wrapped as the spec defines it. */
function specErrors(content: object): string[] {
  return [
    ...validateAgainstSpec(SPEC_SCHEMAS.withheldContent, content),
    ...validateAgainstSpec(SPEC_SCHEMAS.withheldEvent, { type: WITHHELD_EVENT_TYPE, content }),
  ];
}

describe("decode", () => {
  test.prop([nearMissEventArb])(
    "one defect on a valid event yields its reason at its path",
    (miss) => {
      const result = decodeWithheldEvent(miss.event);
      expect(outcome(result)).toEqual({ reason: miss.reason, path: miss.path });
      expect(result.ok ? Number.POSITIVE_INFINITY : result.detail.length).toBeLessThan(300);
    },
  );

  test.prop([rawWithheldEventArb])(
    "valid wire events decode, and re-encode to their content minus what m.no_olm ignores",
    (raw) => {
      const event = unwrap(decodeWithheldEvent(raw));
      const { content } = raw;
      const { room_id, session_id, ...withoutIds } = content as RawObject;
      const expected =
        event.content.kind === "noOlm" ? withoutIds : { ...withoutIds, room_id, session_id };
      expect(encodeWithheldContent(event.content)).toEqual(expected);
    },
  );

  test.prop([fc.oneof(anyValueArb, fc.jsonValue())])("decoding never throws", (input) => {
    expect(typeof decodeWithheldEvent(input).ok).toBe("boolean");
    expect(typeof decodeWithheldContent(input).ok).toBe("boolean");
    expect(decodeWithheldEvent(input).ok).toBe(false);
  });

  test.prop([mutatedEventArb])(
    "randomly damaged events never throw, and what decodes re-encodes",
    (input) => {
      const result = decodeWithheldEvent(input);
      if (result.ok) {
        const reencoded = encodeWithheldContent(result.value.content);
        expect(unwrap(decodeWithheldContent(reencoded))).toEqual(result.value.content);
      } else {
        expect(Object.keys(result)).toEqual(["ok", "reason", "path", "detail"]);
      }
    },
  );
});

describe("round trips", () => {
  test.prop([withheldContentArb])("decode(encode(x)) equals x", (content) => {
    expect(unwrap(decodeWithheldContent(encodeWithheldContent(content)))).toEqual(content);
  });

  test.prop([withheldContentArb])(
    "decode(JSON.parse(JSON.stringify(encode(x)))) equals x",
    (content) => {
      const wire = JSON.parse(JSON.stringify(encodeWithheldContent(content)));
      expect(unwrap(decodeWithheldContent(wire))).toEqual(content);
    },
  );

  test.prop([withheldEventArb])("whole events survive the wire", (event) => {
    const wire = JSON.stringify({ ...event, content: encodeWithheldContent(event.content) });
    expect(unwrap(decodeWithheldEvent(JSON.parse(wire)))).toEqual(event);
  });

  test.prop([sessionWithheldContentArb])(
    "spec-coded session content encodes to what the spec's content schema accepts",
    (content) => {
      expect(
        validateAgainstSpec(SPEC_SCHEMAS.withheldContent, encodeWithheldContent(content)),
      ).toEqual([]);
    },
  );
});

describe("notices we send", () => {
  test.prop([noOlmNoticeInputArb])(
    "never names a room or session, and both the decoder and the spec accept it",
    (input) => {
      const notice = buildNoOlmNotice(input);
      expect(Object.keys(notice)).not.toContain("room_id");
      expect(Object.keys(notice)).not.toContain("session_id");
      expect(specErrors(notice)).toEqual([]);
      const decoded = unwrap(decodeWithheldContent(notice));
      expect(decoded).toMatchObject({
        kind: "noOlm",
        senderKey: input.senderKey,
        fromDevice: input.fromDevice,
      });
      expect(decoded.reason).toBe(input.reason ?? defaultWithheldReason("m.no_olm"));
    },
  );

  test.prop([sessionWithheldNoticeInputArb])(
    "both the decoder and the spec accept every notice",
    (input) => {
      const notice = buildSessionWithheldNotice(input);
      expect(specErrors(notice)).toEqual([]);
      const decoded = unwrap(decodeWithheldContent(notice));
      expect(decoded).toMatchObject({
        kind: "session",
        code: input.code,
        roomId: input.roomId,
        sessionId: input.sessionId,
        reason: input.reason ?? defaultWithheldReason(input.code),
      });
      expect(decoded.fromDevice).toBe(input.fromDevice);
    },
  );
});
