import { describe, expect, test } from "vitest";
import {
  loadSpecExample,
  loadSpecYaml,
  SPEC_SCHEMAS,
  specRef,
  validateAgainstSpec,
} from "./specSchemas.js";

/** Reads a property of a YAML document, failing loudly if the spec file changed shape. */
function at(document: unknown, ...path: readonly string[]): unknown {
  let node = document;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) {
      throw new Error(`spec document has no ${path.join(".")}`);
    }
    node = (node as { readonly [key: string]: unknown })[key];
  }
  return node;
}

describe("spec examples conform to their own schemas", () => {
  test.each([
    ["m.room_key.withheld.yaml", SPEC_SCHEMAS.withheldEvent],
    ["m.room_key.yaml", SPEC_SCHEMAS.roomKeyEvent],
    ["m.dummy.yaml", SPEC_SCHEMAS.dummyEvent],
    ["m.room.encrypted$olm.yaml", SPEC_SCHEMAS.encryptedEvent],
  ])("%s", (example, schema) => {
    expect(validateAgainstSpec(schema, loadSpecExample(example))).toEqual([]);
  });

  test("the withheld example's content conforms to the content component", () => {
    const { content } = loadSpecExample("m.room_key.withheld.yaml");
    expect(validateAgainstSpec(SPEC_SCHEMAS.withheldContent, content)).toEqual([]);
  });

  test("examples lose only the spec's `$ref` composition directive", () => {
    const example = loadSpecExample("m.room_key.withheld.yaml");
    expect(Object.keys(example).sort()).toEqual(["content", "type"]);
  });

  test("a /keys/claim body and response built from the endpoint's own examples conform", () => {
    const keys = loadSpecYaml("api/keys.yaml");
    const claim = ["paths", "/keys/claim", "post"];
    const bodyProps = [
      ...claim,
      "requestBody",
      "content",
      "application/json",
      "schema",
      "properties",
    ];
    const responseProps = [
      ...claim,
      "responses",
      "200",
      "content",
      "application/json",
      "schema",
      "properties",
    ];
    const body = { one_time_keys: at(keys, ...bodyProps, "one_time_keys", "example") };
    const response = {
      one_time_keys: at(keys, ...responseProps, "one_time_keys", "example"),
      failures: at(keys, ...responseProps, "failures", "example"),
    };
    expect(validateAgainstSpec(SPEC_SCHEMAS.keysClaimBody, body)).toEqual([]);
    expect(validateAgainstSpec(SPEC_SCHEMAS.keysClaimResponse, response)).toEqual([]);
  });

  test("a /keys/query response from its example resolves definitions/device_keys.yaml", () => {
    const keys = loadSpecYaml("api/keys.yaml");
    const props = [
      "paths",
      "/keys/query",
      "post",
      "responses",
      "200",
      "content",
      "application/json",
    ];
    const deviceKeys = at(keys, ...props, "schema", "properties", "device_keys", "example");
    expect(
      validateAgainstSpec(SPEC_SCHEMAS.keysQueryResponse, { device_keys: deviceKeys }),
    ).toEqual([]);
  });

  test("a /sendToDevice body from its example conforms", () => {
    const toDevice = loadSpecYaml("api/to_device.yaml");
    const messages = at(
      toDevice,
      ...["paths", "/sendToDevice/{eventType}/{txnId}", "put", "requestBody", "content"],
      ...["application/json", "schema", "properties", "messages", "example"],
    );
    expect(validateAgainstSpec(SPEC_SCHEMAS.sendToDeviceBody, { messages })).toEqual([]);
  });

  test("device keys assembled from the definition's property examples conform", () => {
    const definition = loadSpecYaml("api/definitions/device_keys.yaml");
    const properties = at(definition, "properties");
    const deviceKeys = Object.fromEntries(
      ["user_id", "device_id", "algorithms", "keys", "signatures"].map((key) => [
        key,
        at(properties, key, "example"),
      ]),
    );
    expect(validateAgainstSpec(SPEC_SCHEMAS.deviceKeys, deviceKeys)).toEqual([]);
  });
});

describe("the oracle can fail", () => {
  const content = () => {
    const { content } = loadSpecExample("m.room_key.withheld.yaml");
    return { ...(content as object) };
  };

  test("a room_id without the ! sigil is refused by pattern and format", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.withheldContent, {
      ...content(),
      room_id: "Cuyf34gef24t:localhost",
    });
    expect(errors.some((e) => e.includes("/room_id") && e.includes("pattern"))).toBe(true);
    expect(errors.some((e) => e.includes("/room_id") && e.includes("mx-room-id"))).toBe(true);
  });

  test("a padded sender_key is not mx-unpadded-base64", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.withheldContent, {
      ...content(),
      sender_key: "RF3s+E7RkTQTGF2d8Deol0FkQvgII2aJDf3/Jp5mxVU=",
    });
    expect(errors).toEqual([expect.stringContaining("/sender_key")]);
  });

  test("a custom code is outside the schema's closed enum", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.withheldContent, {
      ...content(),
      code: "org.example.reason",
    });
    expect(errors).toEqual([
      expect.stringContaining("/code must be equal to one of the allowed values"),
    ]);
  });

  test("the event schema checks the event type and the nested content", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.withheldEvent, {
      type: "m.room_key",
      content: { algorithm: "m.olm.v1.curve25519-aes-sha2" },
    });
    expect(errors.some((e) => e.startsWith("/type"))).toBe(true);
    expect(errors.some((e) => e.startsWith("/content/algorithm"))).toBe(true);
    expect(errors.some((e) => e.includes("'sender_key'"))).toBe(true);
  });

  test("a $ref'd definition's format is enforced inside an OpenAPI body", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.keysQueryResponse, {
      device_keys: {
        "@alice:example.com": {
          JLAFKJWSCS: {
            user_id: "alice",
            device_id: "JLAFKJWSCS",
            algorithms: [],
            keys: {},
            signatures: {},
          },
        },
      },
    });
    expect(errors).toContainEqual(
      expect.stringContaining('JLAFKJWSCS/user_id must match format "mx-user-id"'),
    );
  });

  test("a one-time key object missing its signatures is refused through definitions/one_time_keys.yaml", () => {
    const errors = validateAgainstSpec(SPEC_SCHEMAS.keysClaimResponse, {
      one_time_keys: {
        "@alice:example.com": { DEVICE: { "signed_curve25519:AAAAHg": { key: "abc" } } },
      },
    });
    expect(errors.length).toBeGreaterThan(0);
  });

  test("olm_plaintext's local #/components ref is followed", () => {
    const plaintext = {
      type: "m.dummy",
      content: {},
      sender: "@alice:example.org",
      recipient: "@bob:example.org",
      recipient_keys: { ed25519: "key" },
      keys: {},
    };
    expect(validateAgainstSpec(SPEC_SCHEMAS.olmPlaintext, plaintext)).toEqual([
      expect.stringContaining("/keys must have required property 'ed25519'"),
    ]);
    expect(
      validateAgainstSpec(SPEC_SCHEMAS.olmPlaintext, { ...plaintext, keys: { ed25519: "key" } }),
    ).toEqual([]);
  });

  test("olm_plaintext's own placeholder example fails the real mx-user-id check", () => {
    const example = at(loadSpecYaml("api/definitions/olm_plaintext.yaml"), "example");
    const errors = validateAgainstSpec(SPEC_SCHEMAS.olmPlaintext, example);
    expect(errors).toContainEqual(
      expect.stringContaining('/sender must match format "mx-user-id"'),
    );
  });

  test("an unknown schema reference is an error, not a silent pass", () => {
    expect(() => validateAgainstSpec(specRef("api/keys.yaml", "paths", "/nope"), {})).toThrow();
  });
});

describe("specRef", () => {
  test("escapes JSON pointer segments", () => {
    expect(specRef("api/keys.yaml", "paths", "/keys/claim", "a~b")).toBe(
      "api/keys.yaml#/paths/~1keys~1claim/a~0b",
    );
    expect(specRef("event-schemas/m.dummy.yaml")).toBe("event-schemas/m.dummy.yaml");
  });
});
