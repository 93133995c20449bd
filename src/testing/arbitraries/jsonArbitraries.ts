import fc from "fast-check";
import type { JsonObject, JsonValue } from "../../events/index.js";
import { WITHHELD_WIRE_KEYS } from "../../events/withheldContent.js";
import { anyCodePoint } from "./matrixIdArbitraries.js";

/** JSON values with hostile keys and nesting, no -0 (JSON cannot carry it through stringify). */

export const hostileKeyArb = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "",
  "m.relates_to",
  "org.example.flag",
);
export const jsonKeyArb: fc.Arbitrary<string> = fc.oneof(
  hostileKeyArb,
  fc.string({ maxLength: 10 }),
);

const objectFrom = (entries: readonly (readonly [string, JsonValue])[]): JsonObject =>
  Object.fromEntries(entries);

const { jsonArb } = fc.letrec<{ jsonArb: JsonValue }>((tie) => ({
  jsonArb: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.array(tie("jsonArb"), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(jsonKeyArb, tie("jsonArb")), { selector: ([key]) => key, maxLength: 4 })
      .map(objectFrom),
  ),
}));

export { jsonArb };

const wireKeys: readonly string[] = WITHHELD_WIRE_KEYS;
/** Unknown content keys, never one the codec interprets. */
export const extraArb: fc.Arbitrary<JsonObject> = fc
  .uniqueArray(
    fc.tuple(
      jsonKeyArb.filter((key) => !wireKeys.includes(key)),
      jsonArb,
    ),
    { selector: ([key]) => key, maxLength: 5 },
  )
  .map(objectFrom);

/** Values of every JavaScript kind, including ones JSON cannot express. */
export const anyValueArb: fc.Arbitrary<unknown> = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: anyCodePoint,
});

/** `depth` arrays nested in one another: [[[…]]]. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level += 1) value = [value];
  return value;
}
