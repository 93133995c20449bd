import { describe, expect, it } from "vitest";
import {
  decodeWithheldContent,
  encodeWithheldContent,
  type JsonObject,
  MEGOLM_ALGORITHM,
  type NoOlmContent,
  type SessionWithheldContent,
} from "../../src/events/index.js";
import { ALICE_DEVICE, ALICE_KEY, ROOM, SESSION, specExampleContent, unwrap } from "./fixtures.js";

const noOlm = (extra: JsonObject): NoOlmContent => ({
  kind: "noOlm",
  code: "m.no_olm",
  algorithm: MEGOLM_ALGORITHM,
  senderKey: ALICE_KEY,
  fromDevice: ALICE_DEVICE,
  extra,
});

describe("encodeWithheldContent", () => {
  it("re-encodes the spec example exactly", () => {
    const example = specExampleContent();
    expect(encodeWithheldContent(unwrap(decodeWithheldContent(example)))).toEqual(example);
  });

  it("m.no_olm never carries room_id or session_id, even when extra tries to add them", () => {
    const encoded = encodeWithheldContent(noOlm({ room_id: "!r:x", session_id: "s", other: 1 }));
    expect(encoded).toEqual({
      other: 1,
      algorithm: MEGOLM_ALGORITHM,
      sender_key: ALICE_KEY,
      code: "m.no_olm",
      from_device: ALICE_DEVICE,
    });
  });

  it("known fields always win over same-named extras; extras come first in key order", () => {
    const content: SessionWithheldContent = {
      kind: "session",
      code: "m.unverified",
      algorithm: MEGOLM_ALGORITHM,
      senderKey: ALICE_KEY,
      roomId: ROOM,
      sessionId: SESSION,
      extra: { code: "m.blacklisted", sender_key: "forged", reason: "forged", "org.x": true },
    };
    const encoded = encodeWithheldContent(content);
    expect(encoded).toEqual({
      "org.x": true,
      algorithm: MEGOLM_ALGORITHM,
      sender_key: ALICE_KEY,
      code: "m.unverified",
      room_id: ROOM,
      session_id: SESSION,
    });
    expect(Object.keys(encoded)[0]).toBe("org.x");
  });

  it("an extra named __proto__ is written as an own key, not as the output's prototype", () => {
    const extra = JSON.parse('{"__proto__": {"polluted": true}}') as JsonObject;
    const encoded = encodeWithheldContent(noOlm(extra));
    expect(Object.getPrototypeOf(encoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(encoded, "__proto__")?.value).toEqual({
      polluted: true,
    });
    const reparsed: unknown = JSON.parse(JSON.stringify(encoded));
    expect(Object.getOwnPropertyDescriptor(reparsed, "__proto__")?.value).toEqual({
      polluted: true,
    });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
