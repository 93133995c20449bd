import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import {
  checkOlmEncryptedContent,
  checkWithheldContent,
} from "../../src/testing/homeserver/specChecks.js";
import { loadSpecExample } from "../spec/specSchemas.js";
import { specSchemaCheck } from "../support/specHomeserver.js";

/** The relay's checks must never be stricter than the spec's own examples. */
describe("the relay's content checks accept the spec's examples", () => {
  it.each([
    ["m.room_key.withheld.yaml", checkWithheldContent],
    ["m.room.encrypted$olm.yaml", checkOlmEncryptedContent],
  ])("%s", (example, check) => {
    const { content } = loadSpecExample(example);
    expect(check(specSchemaCheck, content as JsonObject)).toEqual([]);
  });
});

describe("custom withheld codes", () => {
  const base = loadSpecExample("m.room_key.withheld.yaml").content as JsonObject;

  it.each(["org.example.blocked", "com.example.v2_reason", "io.element.x"])(
    "accepts %s",
    (code) => {
      expect(checkWithheldContent(specSchemaCheck, { ...base, code })).toEqual([]);
    },
  );

  it.each(["blocked", "org..example", ".org.example", "org.example.", "org.ex ample", "m.unknown"])(
    "refuses %s",
    (code) => {
      expect(checkWithheldContent(specSchemaCheck, { ...base, code })).not.toEqual([]);
    },
  );

  it("a custom code still needs the rest of the content to conform", () => {
    const { sender_key: _, ...withoutSenderKey } = base;
    expect(
      checkWithheldContent(specSchemaCheck, { ...withoutSenderKey, code: "org.example.x" }),
    ).toEqual(["(root) must have required property 'sender_key' [#/required]"]);
  });
});
