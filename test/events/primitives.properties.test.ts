import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  classifyWithheldCode,
  isCurve25519PublicKey,
  isRoomId,
  type JsonValue,
} from "../../src/events/index.js";
import { copyJson, JSON_LIMITS } from "../../src/events/json.js";
import { anyValueArb, jsonArb } from "../../src/testing/arbitraries/jsonArbitraries.js";
import {
  curve25519KeyArb,
  roomIdArb,
  unknownCodeArb,
} from "../../src/testing/arbitraries/matrixIdArbitraries.js";
import { MATRIX_FORMATS } from "../../src/testing/homeserver/matrixFormats.js";
import { countingArray, totalWork } from "./countingProxies.js";
import { unwrap } from "./fixtures.js";

// Properties of the building blocks: JSON copying, identifiers and codes.
// Kept in one file because importing @fast-check/vitest costs seconds per test file.

function isDeepFrozen(value: JsonValue): boolean {
  const pending: JsonValue[] = [value];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next !== "object" || next === null) continue;
    if (!Object.isFrozen(next)) return false;
    pending.push(...Object.values(next));
  }
  return true;
}

describe("copyJson", () => {
  test.prop([fc.jsonValue()])("a copy equals the input, modulo -0", (value) => {
    const copy = unwrap(copyJson(value));
    expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
  });

  test.prop([jsonArb])("copies are deep-frozen and share no container with the input", (value) => {
    const copy = unwrap(copyJson(value));
    expect(isDeepFrozen(copy)).toBe(true);
    if (typeof value === "object" && value !== null) expect(copy).not.toBe(value);
  });

  test.prop([anyValueArb])("for any JavaScript value, the answer is a Result", (value) => {
    const result = copyJson(value);
    expect(typeof result.ok).toBe("boolean");
  });

  // The work is bounded by the node limit, not by the size of the input: an array of any
  // length costs at most two reads per element that fits (its listing and its descriptor).
  test.prop([
    fc.oneof(
      fc.nat({ max: JSON_LIMITS.maxNodes + 10 }),
      fc.integer({ min: JSON_LIMITS.maxNodes, max: 2 ** 32 - 1 }),
    ),
  ])("an array of any length is decided after O(min(length, maxNodes)) reads", (length) => {
    const { array, work } = countingArray(length);
    const result = copyJson(array);
    const fits = length < JSON_LIMITS.maxNodes; // the array itself is one value
    expect(result.ok).toBe(fits);
    expect(totalWork(work)).toBeLessThanOrEqual(fits ? 2 * (length + 1) : 1);
  });
});

describe("identifiers", () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 })])(
    "accepts the unpadded base64 of any 32 bytes, which the spec format accepts too",
    (bytes) => {
      const key = Buffer.from(bytes).toString("base64").replace(/=+$/, "");
      expect(isCurve25519PublicKey(key)).toBe(true);
      expect(MATRIX_FORMATS["mx-unpadded-base64"](key)).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 64 }).filter((b) => b.length !== 32)])(
    "refuses the base64 of any other byte length",
    (bytes) => {
      expect(isCurve25519PublicKey(Buffer.from(bytes).toString("base64").replace(/=+$/, ""))).toBe(
        false,
      );
    },
  );

  test.prop([roomIdArb])(
    "room IDs from the arbitraries are valid for the library and the spec",
    (room) => {
      expect(isRoomId(room)).toBe(true);
      expect(MATRIX_FORMATS["mx-room-id"](room)).toBe(true);
    },
  );

  test.prop([curve25519KeyArb])("keys from the arbitraries decode to 32 bytes", (key) => {
    expect(Buffer.from(key, "base64")).toHaveLength(32);
  });
});

describe("codes", () => {
  test.prop([unknownCodeArb])("generated custom codes are unknown, not invalid", (code) => {
    expect(classifyWithheldCode(code).kind).toBe("unknownCode");
  });

  test.prop([fc.string({ maxLength: 40 })])(
    "a short string is invalid exactly when it breaks the Java-package syntax",
    (code) => {
      expect(classifyWithheldCode(code).kind === "invalidCode").toBe(
        !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(code),
      );
    },
  );
});
