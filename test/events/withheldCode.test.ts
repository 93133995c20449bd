import { describe, expect, expectTypeOf, it } from "vitest";
import {
  classifyWithheldCode,
  defaultWithheldReason,
  isSendableSessionCode,
  NO_OLM_CODE,
  SENDABLE_SESSION_CODES,
  SESSION_WITHHELD_CODES,
  type SendableSessionCode,
  type SessionWithheldCode,
  SPEC_WITHHELD_CODES,
  type SpecWithheldCode,
} from "../../src/events/index.js";
import { loadSpecYaml } from "../spec/specSchemas.js";

function specCodeEnum(): unknown {
  const schema = loadSpecYaml("event-schemas/components/room_key_withheld_content.yaml");
  const { properties } = schema as {
    readonly properties: { readonly code: { readonly enum: unknown } };
  };
  return properties.code.enum;
}

describe("the code table", () => {
  it("holds exactly the codes the spec schema enumerates", () => {
    expect(Object.keys(SPEC_WITHHELD_CODES).sort()).toEqual(
      [...(specCodeEnum() as string[])].sort(),
    );
  });

  it("m.no_olm is the only device-scoped code; the rest name a room key", () => {
    expect(NO_OLM_CODE).toBe("m.no_olm");
    expect([...SESSION_WITHHELD_CODES].sort()).toEqual(
      Object.keys(SPEC_WITHHELD_CODES)
        .filter((code) => code !== "m.no_olm")
        .sort(),
    );
  });

  it("m.history_not_shared is accepted but never sendable (spec: clients SHOULD NOT send it)", () => {
    expect(SESSION_WITHHELD_CODES).toContain("m.history_not_shared");
    expect(SENDABLE_SESSION_CODES).not.toContain("m.history_not_shared");
    expect(isSendableSessionCode("m.history_not_shared")).toBe(false);
    expect(SENDABLE_SESSION_CODES).toEqual([
      "m.blacklisted",
      "m.unverified",
      "m.unauthorised",
      "m.unavailable",
    ]);
  });

  it("every spec code has a non-empty default reason; m.no_olm's is the agreed text", () => {
    expect(defaultWithheldReason("m.no_olm")).toBe("Unable to establish a secure channel.");
    for (const code of Object.keys(SPEC_WITHHELD_CODES) as SpecWithheldCode[]) {
      expect(defaultWithheldReason(code).length).toBeGreaterThan(0);
    }
  });

  it("code types are derived from the table", () => {
    expectTypeOf<SessionWithheldCode>().toEqualTypeOf<
      "m.blacklisted" | "m.unverified" | "m.unauthorised" | "m.unavailable" | "m.history_not_shared"
    >();
    expectTypeOf<SendableSessionCode>().toEqualTypeOf<
      "m.blacklisted" | "m.unverified" | "m.unauthorised" | "m.unavailable"
    >();
  });
});

describe("classifyWithheldCode", () => {
  it.each(Object.keys(SPEC_WITHHELD_CODES))("%s is a spec code", (code) => {
    expect(classifyWithheldCode(code)).toEqual({
      kind: code === "m.no_olm" ? "noOlm" : "session",
      code,
    });
  });

  it.each(["org.example.reason", "m.something", "_a._b", "A1.b2.c3", `a.${"b".repeat(253)}`])(
    "%s is an unknown code",
    (code) => expect(classifyWithheldCode(code)).toEqual({ kind: "unknownCode", code }),
  );

  it.each([
    "",
    "foo",
    "has space",
    "has space.x",
    "m.",
    ".m",
    "m..x",
    "1a.b",
    "a.1b",
    "m.no-olm",
    "m.no_olm ",
  ])("%j is invalid", (code) =>
    expect(classifyWithheldCode(code)).toEqual({ kind: "invalidCode" }),
  );

  it("a code over 255 characters is tooLong even when well-formed", () => {
    expect(classifyWithheldCode(`a.${"b".repeat(254)}`)).toEqual({ kind: "tooLong" });
  });
});
