import { afterAll, describe, expect, it } from "vitest";
import {
  type DecodeRejection,
  type DecodeRejectionReason,
  decodeWithheldContent,
  decodeWithheldEvent,
  encodeWithheldContent,
  MAX_REASON_LENGTH,
  SPEC_WITHHELD_CODES,
} from "../../src/events/index.js";
import { JSON_LIMITS } from "../../src/events/json.js";
import type { Result } from "../../src/result.js";
import { nestedArrays } from "../../src/testing/arbitraries/jsonArbitraries.js";
import type { RawObject } from "../../src/testing/arbitraries/withheldArbitraries.js";
import { ALICE, specExampleAsReceived, specExampleContent, unwrap } from "./fixtures.js";

const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
afterAll(() => {
  // Nothing decoded in this file may have reached Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
});

const outcome = (result: Result<unknown, DecodeRejection>) =>
  result.ok ? "ok" : { reason: result.reason, path: result.path };

const contentWith = (changes: RawObject): RawObject => ({ ...specExampleContent(), ...changes });
const eventWithContent = (content: unknown): RawObject => ({ ...specExampleAsReceived(), content });

describe("the spec example", () => {
  it("decodes as received, with every field of the example carried over", () => {
    const { algorithm, code, room_id, session_id, sender_key, reason } = specExampleContent();
    const event = unwrap(decodeWithheldEvent(specExampleAsReceived()));
    expect(event).toEqual({
      type: "m.room_key.withheld",
      sender: ALICE,
      content: {
        kind: "session",
        algorithm,
        code,
        roomId: room_id,
        sessionId: session_id,
        senderKey: sender_key,
        reason,
        extra: {},
      },
    });
  });

  it("its content decodes alone to the same content", () => {
    const event = unwrap(decodeWithheldEvent(specExampleAsReceived()));
    expect(unwrap(decodeWithheldContent(specExampleContent()))).toEqual(event.content);
  });

  it("as printed in the spec it lacks the sender every received event has", () => {
    const { sender: _, ...withoutSender } = specExampleAsReceived();
    expect(outcome(decodeWithheldEvent(withoutSender))).toEqual({
      reason: "missingField",
      path: ["sender"],
    });
  });
});

describe("codes", () => {
  it.each(Object.keys(SPEC_WITHHELD_CODES))("%s decodes to its kind", (code) => {
    const content = unwrap(decodeWithheldContent(contentWith({ code })));
    expect(content.kind).toBe(code === "m.no_olm" ? "noOlm" : "session");
    expect(content.code).toBe(code);
  });

  it.each([
    ["absent", {}],
    ["strings", { room_id: "!r:x", session_id: "s" }],
    ["of any type", { room_id: 42, session_id: { nested: [null] } }],
    ["invalid ids", { room_id: "", session_id: "" }],
  ])("m.no_olm ignores room_id and session_id when %s", (_, ids) => {
    const { room_id: _r, session_id: _s, ...base } = specExampleContent();
    const content = unwrap(decodeWithheldContent({ ...base, ...ids, code: "m.no_olm" }));
    expect(content.kind).toBe("noOlm");
    expect(Object.keys(content)).not.toContain("roomId");
    expect(Object.keys(content)).not.toContain("sessionId");
    expect(content.extra).toEqual({});
    expect(encodeWithheldContent(content)).not.toHaveProperty("room_id");
  });

  it.each(["org.example.reason", "m.something_new"])(
    "unknown code %s keeps its reason, room and session",
    (code) => {
      const { room_id, session_id } = specExampleContent();
      const content = unwrap(
        decodeWithheldContent(contentWith({ code, reason: "Ask your admin." })),
      );
      expect(content).toMatchObject({
        kind: "unknownCode",
        code,
        reason: "Ask your admin.",
        roomId: room_id,
        sessionId: session_id,
      });
    },
  );

  it("m.history_not_shared is received without failing", () => {
    expect(unwrap(decodeWithheldContent(contentWith({ code: "m.history_not_shared" }))).kind).toBe(
      "session",
    );
  });
});

describe("optional and unknown fields", () => {
  it("from_device (MSC3735) is read", () => {
    expect(
      unwrap(decodeWithheldContent(contentWith({ from_device: "JLAFKJWSCS" }))).fromDevice,
    ).toBe("JLAFKJWSCS");
  });

  it("an empty reason is kept, a missing one stays missing", () => {
    expect(unwrap(decodeWithheldContent(contentWith({ reason: "" }))).reason).toBe("");
    const { reason: _, ...withoutReason } = specExampleContent();
    expect(Object.keys(unwrap(decodeWithheldContent(withoutReason)))).not.toContain("reason");
  });

  it(`an over-long reason is clipped to ${MAX_REASON_LENGTH} units and the notice kept`, () => {
    for (const length of [MAX_REASON_LENGTH + 1, 65_537, 1_000_000]) {
      const decoded = unwrap(
        decodeWithheldContent(contentWith({ code: "m.unverified", reason: "r".repeat(length) })),
      );
      expect(decoded.code).toBe("m.unverified");
      expect(decoded.reason).toBe("r".repeat(MAX_REASON_LENGTH));
    }
    const reason = unwrap(
      decodeWithheldContent(contentWith({ reason: "r".repeat(MAX_REASON_LENGTH) })),
    );
    expect(reason.reason).toHaveLength(MAX_REASON_LENGTH);
  });

  it("clipping never splits a surrogate pair", () => {
    const reason = `${"a".repeat(MAX_REASON_LENGTH - 1)}😀 more`;
    const decoded = unwrap(decodeWithheldContent(contentWith({ reason })));
    expect(decoded.reason).toBe("a".repeat(MAX_REASON_LENGTH - 1));
  });

  it("unknown keys are kept verbatim in extra, including nested ones", () => {
    const extra = { "org.example.flag": true, nested: { list: [1, "two", null] } };
    expect(unwrap(decodeWithheldContent(contentWith(extra))).extra).toEqual(extra);
  });

  it("top-level keys other than type, sender and content are not read", () => {
    const event = { ...specExampleAsReceived(), unsigned: nestedArrays(100_000), junk: () => 1 };
    expect(outcome(decodeWithheldEvent(event))).toBe("ok");
  });
});

describe("__proto__ and friends are data", () => {
  const hostile =
    '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}';

  it("in content they land in extra as own keys and pollute nothing", () => {
    const content = unwrap(
      decodeWithheldContent({ ...specExampleContent(), ...JSON.parse(hostile) }),
    );
    expect(Object.keys(content.extra)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(content.extra, "__proto__")?.value).toEqual({
      polluted: "yes",
    });
    expect(Object.getPrototypeOf(content.extra)).toBeNull();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("an inherited field does not count as present", () => {
    const inherited = Object.create({ type: "m.room_key.withheld" }) as object;
    const event = Object.assign(inherited, { sender: ALICE, content: specExampleContent() });
    // Not a plain object either, so it is refused before any field is read.
    expect(outcome(decodeWithheldEvent(event))).toEqual({ reason: "notAnObject", path: [] });
    const content = Object.assign(Object.create(null) as object, specExampleContent());
    expect(outcome(decodeWithheldContent(content))).toBe("ok");
  });
});

const throwingProxy = () =>
  new Proxy(
    {},
    {
      getOwnPropertyDescriptor: () => {
        throw new Error("trap");
      },
      ownKeys: () => {
        throw new Error("trap");
      },
    },
  );

const contentWithout = (key: string): RawObject =>
  Object.fromEntries(Object.entries(specExampleContent()).filter(([k]) => k !== key));

interface ExpectedRejection {
  readonly reason: DecodeRejectionReason;
  readonly path: readonly (string | number)[];
  readonly event: unknown;
}

/** One input per rejection reason, each pointing at the field at fault. */
const rejections: readonly ExpectedRejection[] = [
  { reason: "notAnObject", path: [], event: "m.room_key.withheld" },
  { reason: "notAnObject", path: ["content"], event: eventWithContent([specExampleContent()]) },
  {
    reason: "wrongEventType",
    path: ["type"],
    event: { ...specExampleAsReceived(), type: "m.room_key" },
  },
  {
    reason: "missingField",
    path: ["content", "code"],
    event: eventWithContent(contentWithout("code")),
  },
  {
    reason: "missingField",
    path: ["content", "room_id"],
    event: eventWithContent(contentWithout("room_id")),
  },
  {
    reason: "wrongType",
    path: ["content", "session_id"],
    event: eventWithContent(contentWith({ session_id: 7 })),
  },
  {
    reason: "unsupportedAlgorithm",
    path: ["content", "algorithm"],
    event: eventWithContent(contentWith({ algorithm: "m.olm.v1.curve25519-aes-sha2" })),
  },
  {
    reason: "invalidSenderKey",
    path: ["content", "sender_key"],
    event: eventWithContent(
      contentWith({ sender_key: "RF3s+E7RkTQTGF2d8Deol0FkQvgII2aJDf3/Jp5mxVU=" }),
    ),
  },
  {
    reason: "invalidUserId",
    path: ["sender"],
    event: { ...specExampleAsReceived(), sender: "alice" },
  },
  {
    reason: "invalidRoomId",
    path: ["content", "room_id"],
    event: eventWithContent(contentWith({ room_id: "Cuyf34gef24t:localhost" })),
  },
  {
    reason: "invalidDeviceId",
    path: ["content", "from_device"],
    event: eventWithContent(contentWith({ from_device: "" })),
  },
  {
    reason: "invalidSessionId",
    path: ["content", "session_id"],
    event: eventWithContent(contentWith({ session_id: "" })),
  },
  {
    reason: "invalidCode",
    path: ["content", "code"],
    event: eventWithContent(contentWith({ code: "has space" })),
  },
  {
    reason: "tooLong",
    path: ["content", "code"],
    event: eventWithContent(contentWith({ code: `org.${"x".repeat(300)}` })),
  },
  {
    // Past the text budget a value is refused whole, by length, before any field is parsed.
    reason: "tooLong",
    path: ["content", "reason"],
    event: eventWithContent(contentWith({ reason: "r".repeat(JSON_LIMITS.maxTextLength + 1) })),
  },
  {
    reason: "notJson",
    path: ["content", "callback"],
    event: eventWithContent(contentWith({ callback: () => 1 })),
  },
  {
    reason: "tooDeep",
    path: ["content", "deep", ...Array<number>(31).fill(0)],
    event: eventWithContent(contentWith({ deep: nestedArrays(100_000) })),
  },
  { reason: "unreadable", path: ["content"], event: eventWithContent(throwingProxy()) },
];

describe("rejections name a reason and the path of the offending field", () => {
  // Only reason and path go into the name: formatting a 100,000-deep input would overflow.
  it.each(rejections)("$reason at $path", ({ reason, path, event }) => {
    expect(outcome(decodeWithheldEvent(event))).toEqual({ reason, path });
  });

  it("every reason a withheld event can produce is covered above", () => {
    // invalidSigningKey belongs to Ed25519 keys, which withheld events do not carry.
    const all: Record<Exclude<DecodeRejectionReason, "invalidSigningKey">, true> = {
      notAnObject: true,
      wrongEventType: true,
      missingField: true,
      wrongType: true,
      unsupportedAlgorithm: true,
      invalidSenderKey: true,
      invalidUserId: true,
      invalidRoomId: true,
      invalidDeviceId: true,
      invalidSessionId: true,
      invalidCode: true,
      tooLong: true,
      notJson: true,
      tooDeep: true,
      unreadable: true,
    };
    expect(new Set(rejections.map(({ reason }) => reason))).toEqual(new Set(Object.keys(all)));
  });

  it("decodeWithheldContent reports paths relative to the content", () => {
    expect(outcome(decodeWithheldContent(contentWith({ sender_key: 1 })))).toEqual({
      reason: "wrongType",
      path: ["sender_key"],
    });
  });

  it("a 20-million-character string is tooLong in every string field, with a short detail", () => {
    const huge = "x".repeat(20_000_000);
    for (const field of ["reason", "sender_key", "room_id", "session_id", "code", "from_device"]) {
      const result = decodeWithheldContent(contentWith({ [field]: huge }));
      expect(outcome(result)).toEqual({ reason: "tooLong", path: [field] });
      expect(result.ok ? Number.POSITIVE_INFINITY : result.detail.length).toBeLessThan(200);
    }
    expect(outcome(decodeWithheldEvent({ ...specExampleAsReceived(), sender: huge }))).toEqual({
      reason: "tooLong",
      path: ["sender"],
    });
  });

  it("a getter in content is refused without being run", () => {
    let ran = false;
    const content = Object.defineProperty({ ...specExampleContent() }, "reason", {
      enumerable: true,
      get: () => {
        ran = true;
        throw new Error("getter ran");
      },
    });
    expect(outcome(decodeWithheldContent(content))).toEqual({
      reason: "notJson",
      path: ["reason"],
    });
    expect(ran).toBe(false);
  });

  it("a Proxy event whose every trap throws is unreadable", () => {
    expect(outcome(decodeWithheldEvent(throwingProxy()))).toEqual({
      reason: "unreadable",
      path: [],
    });
  });
});
