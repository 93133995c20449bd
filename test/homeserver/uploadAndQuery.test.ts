import Olm from "@matrix-org/olm";
import { beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import {
  fakeDeviceKeys,
  fakeFallbackKey,
  fakeOneTimeKeys,
  fakeUpload,
} from "../../src/testing/homeserver/fakeKeys.js";
import { canonicalJson } from "../../src/testing/homeserver/wire.js";
import type { KeysClaimRequest } from "../../src/transport/transport.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";
import { specHomeserver } from "../support/specHomeserver.js";
import { ALICE, ALICE2, BOB, homeserverWith } from "./harness.js";

describe("/keys/upload", () => {
  it("accepts a valid upload and reports one-time key counts", () => {
    const hs = specHomeserver();
    const body = fakeUpload(BOB.userId, BOB.deviceId, {
      oneTimeKeyIds: ["a", "b"],
      fallbackKeyId: "f",
    });
    expect(hs.uploadKeys(BOB.userId, BOB.deviceId, body)).toEqual({
      ok: true,
      value: { one_time_key_counts: { signed_curve25519: 2 } },
    });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(2);
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId, "curve25519")).toBe(0);
    expect(hs.violations).toEqual([]);
  });

  it("re-sending an identical one-time key is harmless", () => {
    const hs = specHomeserver();
    const body = fakeUpload(BOB.userId, BOB.deviceId, { oneTimeKeyIds: ["a"] });
    hs.uploadKeys(BOB.userId, BOB.deviceId, body);
    expect(hs.uploadKeys(BOB.userId, BOB.deviceId, body).ok).toBe(true);
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
  });

  const otherKey = fakeOneTimeKeys(BOB.userId, BOB.deviceId, ["other"])["signed_curve25519:other"];
  const badUploads: ReadonlyArray<readonly [string, unknown, string]> = [
    [
      "device_keys of another user",
      { device_keys: fakeDeviceKeys("@eve:beta.example", BOB.deviceId) },
      "user_id",
    ],
    [
      "device_keys of another device",
      { device_keys: fakeDeviceKeys(BOB.userId, "OTHER") },
      "device_id",
    ],
    [
      "device_keys without signatures",
      { device_keys: withoutField(fakeDeviceKeys(BOB.userId, BOB.deviceId), "signatures") },
      "required property 'signatures'",
    ],
    [
      "an identity key not named <algorithm>:<device_id>",
      { device_keys: { ...fakeDeviceKeys(BOB.userId, BOB.deviceId), keys: { curve25519: "abc" } } },
      "not <algorithm>:<device_id>",
    ],
    [
      "a one-time key name without an algorithm",
      { one_time_keys: { AAAA: "key" } },
      "<algorithm>:<key_id>",
    ],
    [
      "a one-time key object without its key",
      { one_time_keys: { "signed_curve25519:a": { signatures: {} } } },
      "oneOf",
    ],
    [
      "two fallback keys for one algorithm",
      {
        fallback_keys: {
          ...fakeFallbackKey(BOB.userId, BOB.deviceId, "f1"),
          ...fakeFallbackKey(BOB.userId, BOB.deviceId, "f2"),
        },
      },
      "more than one fallback key",
    ],
    [
      "a signed fallback key without fallback: true",
      { fallback_keys: { "signed_curve25519:f": otherKey ?? null } },
      '"fallback": true',
    ],
    ["a body that is not an object", [1, 2], "must be object"],
    ["a field JSON cannot carry", { one_time_keys: undefined, x: () => 1 }, "JSON cannot carry"],
  ];

  it.each(badUploads)("refuses %s and records it", (_, body, problem) => {
    const hs = specHomeserver();
    const uploaded = hs.uploadKeys(BOB.userId, BOB.deviceId, body);
    expect(uploaded).toMatchObject({ ok: false, reason: "rejected" });
    expect(uploaded.ok || uploaded.problems.join("\n")).toContain(problem);
    expect(hs.violations).toMatchObject([{ endpoint: "uploadKeys", device: BOB }]);
    expect(hs.queryKeys([BOB.userId]).device_keys).toEqual({});
  });

  it("refuses reusing a one-time key id for another key, atomically", () => {
    const hs = specHomeserver();
    hs.uploadKeys(
      BOB.userId,
      BOB.deviceId,
      fakeUpload(BOB.userId, BOB.deviceId, { oneTimeKeyIds: ["a"] }),
    );
    const conflicting = {
      one_time_keys: {
        ...fakeOneTimeKeys(BOB.userId, BOB.deviceId, ["b"]),
        "signed_curve25519:a": "different",
      },
    };
    expect(hs.uploadKeys(BOB.userId, BOB.deviceId, conflicting)).toMatchObject({ ok: false });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
  });

  it("refuses re-publishing a key that was already claimed", async () => {
    const hs = homeserverWith(ALICE);
    const body = fakeUpload(BOB.userId, BOB.deviceId, { oneTimeKeyIds: ["a"] });
    hs.uploadKeys(BOB.userId, BOB.deviceId, body);
    const claim = { one_time_keys: { [BOB.userId]: { [BOB.deviceId]: "signed_curve25519" } } };
    await hs.transportFor(ALICE.userId, ALICE.deviceId).claimKeys(claim as KeysClaimRequest);
    expect(hs.uploadKeys(BOB.userId, BOB.deviceId, body)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining("already claimed")],
    });
  });

  it("refuses an uploader whose ids are not a user ID and a device ID", () => {
    const hs = specHomeserver();
    expect(hs.uploadKeys("bob", "B", {}).ok).toBe(false);
    expect(hs.uploadKeys(BOB.userId, "", {}).ok).toBe(false);
    expect(() => hs.transportFor("bob", "B")).toThrow(/not a user ID/);
  });
});

describe("/keys/query", () => {
  it("returns each device's keys as uploaded plus unsigned, in the spec's response shape", () => {
    const hs = homeserverWith(ALICE, ALICE2, BOB);
    const response = hs.queryKeys([ALICE.userId, BOB.userId]);
    expect(validateAgainstSpec(SPEC_SCHEMAS.keysQueryResponse, response)).toEqual([]);
    expect(response.failures).toEqual({});
    expect(Object.keys(response.device_keys[ALICE.userId] ?? {})).toEqual([
      ALICE.deviceId,
      ALICE2.deviceId,
    ]);
    expect(response.device_keys[BOB.userId]?.[BOB.deviceId]).toEqual({
      ...fakeDeviceKeys(BOB.userId, BOB.deviceId),
      unsigned: {},
    });
  });

  it("leaves out unknown users and devices that never uploaded identity keys", () => {
    const hs = homeserverWith(ALICE);
    hs.transportFor(BOB.userId, BOB.deviceId);
    expect(hs.queryKeys([BOB.userId, "@nobody:alpha.example"])).toEqual({
      device_keys: {},
      failures: {},
    });
  });

  it("reports users on a down server in failures", () => {
    const hs = homeserverWith(ALICE, BOB);
    hs.setServerDown("beta.example", true);
    const response = hs.queryKeys([ALICE.userId, BOB.userId]);
    expect(Object.keys(response.device_keys)).toEqual([ALICE.userId]);
    expect(response.failures).toEqual({ "beta.example": {} });
  });

  it("hands out copies: editing a response changes nothing on the server", () => {
    const hs = homeserverWith(BOB);
    const first = hs.queryKeys([BOB.userId]).device_keys[BOB.userId]?.[BOB.deviceId] as Record<
      string,
      unknown
    >;
    first.user_id = "@mallory:beta.example";
    expect(hs.queryKeys([BOB.userId]).device_keys[BOB.userId]?.[BOB.deviceId]?.user_id).toBe(
      BOB.userId,
    );
  });
});

describe("with real libolm keys", () => {
  beforeAll(async () => {
    await Olm.init();
  });

  it("accepts an upload signed by an Olm account and serves its keys", async () => {
    const account = new Olm.Account();
    try {
      account.create();
      const body = olmUpload(account, BOB.userId, BOB.deviceId, 3);
      const hs = homeserverWith(ALICE);
      expect(hs.uploadKeys(BOB.userId, BOB.deviceId, body)).toEqual({
        ok: true,
        value: { one_time_key_counts: { signed_curve25519: 3 } },
      });
      const query = hs.queryKeys([BOB.userId]);
      expect(query.device_keys[BOB.userId]?.[BOB.deviceId]?.keys).toEqual(body.device_keys?.keys);
      for (let i = 0; i < 4; i += 1) {
        const claim = { one_time_keys: { [BOB.userId]: { [BOB.deviceId]: "signed_curve25519" } } };
        const claimed = await hs
          .transportFor(ALICE.userId, ALICE.deviceId)
          .claimKeys(claim as KeysClaimRequest);
        expect(claimed.ok).toBe(true);
      }
      expect(hs.claims.map((c) => c.fallback)).toEqual([false, false, false, true]);
      expect(hs.violations).toEqual([]);
    } finally {
      account.free();
    }
  });
});

interface OlmUploadBody extends JsonObject {
  readonly device_keys?: JsonObject & { readonly keys?: JsonObject };
}

/** A /keys/upload body signed the way Matrix signs JSON (canonical form, no signatures). */
function olmUpload(
  account: Olm.Account,
  userId: string,
  deviceId: string,
  count: number,
): OlmUploadBody {
  const sign = (object: JsonObject): JsonObject => ({
    ...object,
    signatures: { [userId]: { [`ed25519:${deviceId}`]: account.sign(canonicalJson(object)) } },
  });
  const identity = JSON.parse(account.identity_keys()) as { curve25519: string; ed25519: string };
  account.generate_one_time_keys(count);
  account.generate_fallback_key();
  const oneTime = JSON.parse(account.one_time_keys()) as { curve25519: Record<string, string> };
  const fallback = JSON.parse(account.unpublished_fallback_key()) as {
    curve25519: Record<string, string>;
  };
  account.mark_keys_as_published();
  const signedKeys = (keys: Record<string, string>, extra: JsonObject) =>
    Object.fromEntries(
      Object.entries(keys).map(([id, key]) => [`signed_curve25519:${id}`, sign({ key, ...extra })]),
    );
  return {
    device_keys: sign({
      user_id: userId,
      device_id: deviceId,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: {
        [`curve25519:${deviceId}`]: identity.curve25519,
        [`ed25519:${deviceId}`]: identity.ed25519,
      },
    }),
    one_time_keys: signedKeys(oneTime.curve25519, {}),
    fallback_keys: signedKeys(fallback.curve25519, { fallback: true }),
  };
}

function withoutField<T extends object>(object: T, field: string): T {
  return Object.fromEntries(Object.entries(object).filter(([key]) => key !== field)) as T;
}
