import { describe, expect, test } from "vitest";
import { MATRIX_FORMATS, type MatrixFormat } from "../../src/testing/homeserver/matrixFormats.js";

const cases: Record<MatrixFormat, { accepts: readonly string[]; refuses: readonly string[] }> = {
  "mx-user-id": {
    accepts: [
      "@alice:example.org",
      "@a.b_c=d-e/f+g:matrix.org:8448",
      "@bob:127.0.0.1",
      "@carol:[2001:db8::1]:443",
      // Historical localparts: clients MUST accept them.
      "@Alice Smith:example.org",
      "@:example.org",
      // 255 bytes exactly, in ASCII and in two-byte characters.
      `@${"a".repeat(242)}:example.org`,
      `@${"é".repeat(121)}:example.org`,
    ],
    refuses: [
      "alice:example.org",
      "@alice",
      "@alice:",
      "@alice:exa mple.org",
      "@alice:example.org:port",
      "@al\u0000ice:example.org",
      "@\uD800:example.org",
      `@${"a".repeat(243)}:example.org`,
      `@${"é".repeat(122)}:example.org`,
    ],
  },
  "mx-room-id": {
    accepts: [
      "!Cuyf34gef24t:localhost",
      "!opaque:example.org:8448",
      `!${"A".repeat(43)}`,
      "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",
    ],
    refuses: [
      "",
      "!",
      "Cuyf34gef24t:localhost",
      "!a:b c",
      "#alias:example.org",
      `!${"A".repeat(42)}`,
    ],
  },
  "mx-event-id": {
    accepts: ["$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk", "$143273582443PhrSn:example.org"],
    refuses: ["acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk", "$", "$short"],
  },
  "mx-server-name": {
    accepts: ["matrix.org", "localhost:8448", "1.2.3.4", "[1234:5678::abcd]:8448"],
    refuses: ["", "matrix.org:", "matrix.org:123456", "exa mple.org", "[]"],
  },
  "mx-unpadded-base64": {
    accepts: ["", "Zg", "Zm8", "Zm9v", "Zm9vYg", "RF3s+E7RkTQTGF2d8Deol0FkQvgII2aJDf3/Jp5mxVU"],
    refuses: ["Zg==", "Zm8=", "Z", "Zm9vY", "Zm-8", "Zm_8", "Zm 8"],
  },
};

describe.each(Object.entries(cases))("%s", (format, { accepts, refuses }) => {
  const check = MATRIX_FORMATS[format as MatrixFormat];
  test.each(accepts)("accepts %j", (value) => expect(check(value)).toBe(true));
  test.each(refuses)("refuses %j", (value) => expect(check(value)).toBe(false));
});
