import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";
import { parseKeysClaimResponse, serverOf } from "../../src/transport/keysClaimResponse.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";

const alice = "@alice:example.org" as UserId;
const dev = "ALICEDEV" as DeviceId;
const signed = {
  key: "zKbLg+NrIjpnagy+pIY6uPL4ZwEG2v+8F9lmgsnlZzs",
  signatures: { [alice]: { [`ed25519:${dev}`]: "sig" } },
};

describe("parseKeysClaimResponse", () => {
  it("finds a device's signed_curve25519 key in a spec-shaped response", () => {
    const body = {
      one_time_keys: { [alice]: { [dev]: { "signed_curve25519:AAAAHg": signed } } },
      failures: {},
    };
    expect(validateAgainstSpec(SPEC_SCHEMAS.keysClaimResponse, body)).toEqual([]);
    const parsed = parseKeysClaimResponse(body);
    if (!parsed.ok) throw new Error(parsed.detail);
    expect(parsed.value.keyFor(alice, dev)).toEqual({
      keyId: "signed_curve25519:AAAAHg",
      keyObject: signed,
    });
    expect(parsed.value.keyFor(alice, "OTHER" as DeviceId)).toBeUndefined();
    expect(parsed.value.isUnreachable("example.org")).toBe(false);
  });

  it("ignores keys of other algorithms and non-object entries", () => {
    const body = {
      one_time_keys: { [alice]: { [dev]: { "curve25519:AAAA": "k", "signed_curve25519:B": 5 } } },
    };
    const parsed = parseKeysClaimResponse(body);
    expect(parsed.ok && parsed.value.keyFor(alice, dev)).toBeUndefined();
  });

  it("reports unreachable servers", () => {
    const parsed = parseKeysClaimResponse({ one_time_keys: {}, failures: { "down.example": {} } });
    expect(parsed.ok && parsed.value.isUnreachable("down.example")).toBe(true);
    expect(parsed.ok && parsed.value.isUnreachable("up.example")).toBe(false);
    expect(serverOf("@bob:down.example" as UserId)).toBe("down.example");
  });

  it.each([null, 42, "x", [], {}, { one_time_keys: [] }])("rejects %j as malformed", (body) => {
    expect(parseKeysClaimResponse(body)).toMatchObject({ ok: false, reason: "malformedResponse" });
  });

  it("does not look up inherited properties", () => {
    const parsed = parseKeysClaimResponse({ one_time_keys: {} });
    expect(
      parsed.ok && parsed.value.keyFor("constructor" as UserId, "x" as DeviceId),
    ).toBeUndefined();
  });

  test.prop([fc.jsonValue(), fc.string(), fc.string()])("never throws", (body, user, device) => {
    const parsed = parseKeysClaimResponse(body);
    if (parsed.ok) parsed.value.keyFor(user as UserId, device as DeviceId);
  });
});
