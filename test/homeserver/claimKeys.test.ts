import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/events/json.js";
import { type FakeUploadOptions, fakeUpload } from "../../src/testing/homeserver/fakeKeys.js";
import type { DeviceRef, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import type { KeysClaimRequest } from "../../src/transport/transport.js";
import { SPEC_SCHEMAS, validateAgainstSpec } from "../spec/specSchemas.js";
import { ALICE, BOB, CAROL, homeserverWith } from "./harness.js";

const claimBody = (...targets: readonly DeviceRef[]): KeysClaimRequest => {
  const wanted: Record<string, Record<string, "signed_curve25519">> = {};
  for (const { userId, deviceId } of targets) {
    wanted[userId] = { ...wanted[userId], [deviceId]: "signed_curve25519" };
  }
  return { one_time_keys: wanted } as KeysClaimRequest;
};

function upload(hs: InMemoryHomeserver, device: DeviceRef, options: FakeUploadOptions): void {
  const body = fakeUpload(device.userId, device.deviceId, options);
  expect(hs.uploadKeys(device.userId, device.deviceId, body).ok).toBe(true);
}

/** The key names returned for `target`, or undefined when the device is absent. */
function keyNamesFor(response: JsonValue, target: DeviceRef): string[] | undefined {
  const parsed = response as {
    one_time_keys: Record<string, Record<string, Record<string, unknown>>>;
  };
  const keys = parsed.one_time_keys[target.userId]?.[target.deviceId];
  return keys === undefined ? undefined : Object.keys(keys);
}

async function claimOne(hs: InMemoryHomeserver, claimer: DeviceRef, target: DeviceRef) {
  const claimed = await hs
    .transportFor(claimer.userId, claimer.deviceId)
    .claimKeys(claimBody(target));
  if (!claimed.ok) throw new Error(`claim failed: ${claimed.detail}`);
  return claimed.value;
}

describe("one-time keys", () => {
  it("hands each key out once, in upload order across uploads", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["B", "A"] });
    upload(hs, BOB, { oneTimeKeyIds: ["C"], withoutDeviceKeys: true });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(3);
    const names: (string[] | undefined)[] = [];
    for (let i = 0; i < 4; i += 1) names.push(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB));
    expect(names).toEqual([
      ["signed_curve25519:B"],
      ["signed_curve25519:A"],
      ["signed_curve25519:C"],
      undefined,
    ]);
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(0);
    expect(hs.claims.map((c) => c.keyName)).toEqual(names.slice(0, 3).flat());
    expect(hs.claimsAnswered).toBe(4);
    expect(hs.violations).toEqual([]);
  });

  it("returns the key object exactly as uploaded, in a spec-valid response", async () => {
    const hs = homeserverWith(ALICE);
    const body = fakeUpload(BOB.userId, BOB.deviceId, { oneTimeKeyIds: ["K"] });
    hs.uploadKeys(BOB.userId, BOB.deviceId, body);
    const response = await claimOne(hs, ALICE, BOB);
    expect(validateAgainstSpec(SPEC_SCHEMAS.keysClaimResponse, response)).toEqual([]);
    expect(response).toEqual({
      one_time_keys: { [BOB.userId]: { [BOB.deviceId]: body.one_time_keys } },
      failures: {},
    });
  });

  it("serves several devices in one claim", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["b"] });
    upload(hs, CAROL, { oneTimeKeyIds: ["c"] });
    const claimed = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .claimKeys(claimBody(BOB, CAROL));
    expect(claimed.ok && keyNamesFor(claimed.value, BOB)).toEqual(["signed_curve25519:b"]);
    expect(claimed.ok && keyNamesFor(claimed.value, CAROL)).toEqual(["signed_curve25519:c"]);
  });

  it("leaves unknown users and devices out, with no failure", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["b"] });
    const claimed = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .claimKeys(
        claimBody(
          { userId: BOB.userId, deviceId: "GONE" },
          { userId: "@nobody:beta.example", deviceId: "X" },
        ),
      );
    expect(claimed).toEqual({ ok: true, value: { one_time_keys: {}, failures: {} } });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
  });

  it("a known device without keys of that algorithm is left out", async () => {
    const hs = homeserverWith(ALICE, BOB);
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toBeUndefined();
  });
});

describe("fallback keys", () => {
  it("after the one-time keys run out, the fallback key is returned, again and again", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["o1"], fallbackKeyId: "f1" });
    const first = await claimOne(hs, ALICE, BOB);
    expect(keyNamesFor(first, BOB)).toEqual(["signed_curve25519:o1"]);
    for (let i = 0; i < 2; i += 1) {
      const again = await claimOne(hs, ALICE, BOB);
      expect(again).toMatchObject({
        one_time_keys: {
          [BOB.userId]: { [BOB.deviceId]: { "signed_curve25519:f1": { fallback: true } } },
        },
      });
    }
    expect(hs.claims.map((c) => c.fallback)).toEqual([false, true, true]);
  });

  it("a new fallback key replaces the old one", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { fallbackKeyId: "f1" });
    upload(hs, BOB, { fallbackKeyId: "f2", withoutDeviceKeys: true });
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:f2"]);
  });

  it("fresh one-time keys are preferred over the fallback key again", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { fallbackKeyId: "f1" });
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:f1"]);
    upload(hs, BOB, { oneTimeKeyIds: ["o2"], withoutDeviceKeys: true });
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:o2"]);
  });
});

describe("faults and unreachable servers", () => {
  it("failNext: the claims fail and no key is consumed", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["o1"] });
    hs.failNext(ALICE, "claimKeys", 2);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    expect(await alice.claimKeys(claimBody(BOB))).toMatchObject({
      ok: false,
      reason: "unreachable",
    });
    expect(await alice.claimKeys(claimBody(BOB))).toMatchObject({
      ok: false,
      reason: "unreachable",
    });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
    expect(hs.claimsAnswered).toBe(0);
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:o1"]);
  });

  it("a lost claim response still consumed the key: the retry gets the next one", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["o1", "o2"] });
    hs.loseNextResponses(ALICE, "claimKeys", 1);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    expect(await alice.claimKeys(claimBody(BOB))).toMatchObject({
      ok: false,
      reason: "unreachable",
    });
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:o2"]);
  });

  it("users on a down server are reported in failures and keep their keys", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["b"] });
    upload(hs, CAROL, { oneTimeKeyIds: ["c"] });
    hs.setServerDown("beta.example", true);
    const claimed = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .claimKeys(claimBody(BOB, CAROL));
    expect(claimed).toMatchObject({ ok: true, value: { failures: { "beta.example": {} } } });
    expect(claimed.ok && keyNamesFor(claimed.value, BOB)).toBeUndefined();
    expect(claimed.ok && keyNamesFor(claimed.value, CAROL)).toEqual(["signed_curve25519:c"]);
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
    hs.setServerDown("beta.example", false);
    expect(keyNamesFor(await claimOne(hs, ALICE, BOB), BOB)).toEqual(["signed_curve25519:b"]);
  });

  it("a device whose own server is down cannot claim at all", async () => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["b"] });
    hs.setServerDown("alpha.example", true);
    const claimed = await hs.transportFor(ALICE.userId, ALICE.deviceId).claimKeys(claimBody(BOB));
    expect(claimed).toMatchObject({ ok: false, reason: "unreachable" });
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
  });
});

describe("spec checks on claims", () => {
  it.each([
    [
      "a non-@ user key",
      { one_time_keys: { bob: { BOB1: "signed_curve25519" } } },
      "is not a user ID",
    ],
    ["a non-string algorithm", { one_time_keys: { [BOB.userId]: { BOB1: 1 } } }, "must be string"],
    ["no one_time_keys", { timeout: 10 }, "required property 'one_time_keys'"],
    ["a fractional timeout", { one_time_keys: {}, timeout: 1.5 }, "must be integer"],
  ])("refuses %s and records it", async (_, body, problem) => {
    const hs = homeserverWith(ALICE);
    upload(hs, BOB, { oneTimeKeyIds: ["b"] });
    const claimed = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .claimKeys(body as unknown as KeysClaimRequest);
    expect(claimed).toMatchObject({ ok: false, reason: "rejected" });
    expect(hs.violations).toMatchObject([{ endpoint: "claimKeys", device: ALICE }]);
    expect(hs.violations[0]?.problems.join("\n")).toContain(problem);
    expect(hs.oneTimeKeyCount(BOB.userId, BOB.deviceId)).toBe(1);
  });
});
