import { fc, test } from "@fast-check/vitest";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { Curve25519PublicKey, Ed25519PublicKey } from "../../src/events/matrixIds.js";
import { signingPayload } from "../../src/olm/canonicalJson.js";
import {
  buildOlmPlaintext,
  type ClaimedOneTimeKey,
  type LibolmBackend,
  OLM_ALGORITHM,
  signJson,
  verifyJsonSignature,
} from "../../src/olm/index.js";
import {
  exceedsOlmLimit,
  MAX_ED25519_SIGNATURE_BYTES,
  MAX_OLM_BODY_BYTES,
  MAX_OLM_KEY_BYTES,
  MAX_OLM_PLAINTEXT_BYTES,
  MAX_SIGNED_JSON_BYTES,
  olmByteLength,
} from "../../src/olm/olmInputLimits.js";
import { unwrap } from "../events/fixtures.js";
import { backend, ciphertextOf, claimFrom, freeFixtures, loadOlm, RawPeer } from "./olmFixtures.js";

/*
 * libolm's binding copies string arguments onto a 64 KiB wasm stack without a bound; a longer
 * one overwrites the static data of the process-wide libolm (docs/olm-limits.md). OVERSIZE is in
 * the band where that corruption was measured to be silent (64–103 KB): without the checks these
 * tests see no throw, then a broken round trip.
 */
const OVERSIZE = 80_000;

beforeAll(loadOlm);
afterEach(freeFixtures);

const asJson = (content: unknown): JsonObject => content as JsonObject;

/** The typed refusal: `inputTooLarge`, naming the limit. */
function expectTooLarge(result: { ok: boolean }, limit: number): void {
  expect(result).toMatchObject({ ok: false, reason: "inputTooLarge" });
  expect((result as unknown as { detail: string }).detail).toContain(String(limit));
}

/**
 * libolm is intact and `subject` unharmed: it opens a session with a new peer, and a message
 * goes each way over it.
 */
async function expectStillWorks(subject: LibolmBackend): Promise<void> {
  const other = await backend("carol");
  unwrap(subject.createOutboundSession(other.ownDevice, claimFrom(other)));
  const hello = unwrap(subject.encrypt(other.ownDevice, "m.test", { n: 1 }));
  expect(other.decrypt(subject.ownDevice, asJson(hello))).toMatchObject({
    ok: true,
    value: { type: "m.test", content: { n: 1 }, newSession: true },
  });
  const reply = unwrap(other.encrypt(subject.ownDevice, "m.test", { n: 2 }));
  expect(subject.decrypt(other.ownDevice, asJson(reply))).toMatchObject({
    ok: true,
    value: { type: "m.test", content: { n: 2 }, newSession: false },
  });
}

/** Bob, and a raw-libolm Alice holding a pre-key session on one of Bob's one-time keys. */
async function bobAndRawAlice() {
  const bob = await backend("bob");
  const alice = RawPeer.create("alice");
  const session = alice.outboundTo(bob.ownDevice, claimFrom(bob));
  return { bob, alice, session };
}

/** Alice's honest plaintext to Bob, its content padded with `pad` characters. */
function padded(alice: RawPeer, bob: LibolmBackend, pad: number): JsonObject {
  return alice.plaintextFor(bob.ownDevice, { content: { pad: "x".repeat(pad) } });
}

/** An established two-way session: Alice's next messages are normal (type 1) ones. */
async function bobAndRawAliceTalking() {
  const parts = await bobAndRawAlice();
  const { bob, alice, session } = parts;
  const first = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
  unwrap(bob.decrypt(alice.device, first));
  const answer = ciphertextOf(unwrap(bob.encrypt(alice.device, "m.dummy", {})), alice.device);
  session.decrypt(answer.type, answer.body);
  return parts;
}

const withKeys = (
  device: PeerDevice,
  keys: { curve25519?: string; ed25519?: string },
): PeerDevice => ({
  ...device,
  ...(keys.curve25519 === undefined ? {} : { curve25519: keys.curve25519 as Curve25519PublicKey }),
  ...(keys.ed25519 === undefined ? {} : { ed25519: keys.ed25519 as Ed25519PublicKey }),
});

describe("an oversize Olm message body is refused before libolm, and nothing changes", () => {
  it("a genuine ~80 KB pre-key message (create_inbound_from)", async () => {
    const { bob, alice, session } = await bobAndRawAlice();
    const huge = alice.envelope(session, bob.ownDevice, padded(alice, bob, 59_000));
    expect(ciphertextOf(huge, bob.ownDevice)).toMatchObject({ type: 0 });
    // In the band where the overflow was measured to corrupt libolm silently.
    expect(ciphertextOf(huge, bob.ownDevice).body.length).toBeGreaterThan(70_000);
    expect(ciphertextOf(huge, bob.ownDevice).body.length).toBeLessThan(100_000);
    expectTooLarge(bob.decrypt(alice.device, huge), MAX_OLM_BODY_BYTES);
    expect(bob.hasSession(alice.device)).toBe(false);
    // The one-time key was not used up: the same session's next, small pre-key message opens it.
    const small = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, small)).toMatchObject({
      ok: true,
      value: { newSession: true },
    });
    await expectStillWorks(bob);
  });

  it("a pre-key message tried against existing sessions (matches_inbound_from)", async () => {
    const { bob, alice } = await bobAndRawAliceTalking();
    const again = alice.outboundTo(bob.ownDevice, claimFrom(bob));
    const huge = alice.envelope(again, bob.ownDevice, padded(alice, bob, 59_000));
    expectTooLarge(bob.decrypt(alice.device, huge), MAX_OLM_BODY_BYTES);
    await expectStillWorks(bob);
  });

  it("a genuine ~80 KB normal (type 1) message", async () => {
    const { bob, alice, session } = await bobAndRawAliceTalking();
    const huge = alice.envelope(session, bob.ownDevice, padded(alice, bob, 59_000));
    expect(ciphertextOf(huge, bob.ownDevice)).toMatchObject({ type: 1 });
    expectTooLarge(bob.decrypt(alice.device, huge), MAX_OLM_BODY_BYTES);
    // The session did not move: Alice's next message still decrypts on it.
    const next = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, next)).toMatchObject({
      ok: true,
      value: { newSession: false },
    });
    await expectStillWorks(bob);
  });

  it("a body under the limit in UTF-16 code units but over it in UTF-8 bytes", async () => {
    const { bob, alice } = await bobAndRawAlice();
    const body = "é".repeat(MAX_OLM_BODY_BYTES / 2 + 1);
    expect(body.length).toBeLessThan(MAX_OLM_BODY_BYTES);
    const content = {
      algorithm: OLM_ALGORITHM,
      sender_key: alice.device.curve25519,
      ciphertext: { [bob.ownDevice.curve25519]: { type: 0, body } },
    };
    expectTooLarge(bob.decrypt(alice.device, content), MAX_OLM_BODY_BYTES);
    await expectStillWorks(bob);
  });
});

describe("oversize keys are refused before libolm", () => {
  it("a sender's curve25519 key in decrypt (create_inbound_from)", async () => {
    const { bob, alice, session } = await bobAndRawAlice();
    const hugeKey = "A".repeat(OVERSIZE);
    const content = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    const lying = { ...content, sender_key: hugeKey };
    expectTooLarge(
      bob.decrypt(withKeys(alice.device, { curve25519: hugeKey }), lying),
      MAX_OLM_KEY_BYTES,
    );
    await expectStillWorks(bob);
  });

  it("a device's curve25519 key in createOutboundSession (create_outbound)", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const device = withKeys(dave.ownDevice, { curve25519: "A".repeat(OVERSIZE) });
    expectTooLarge(bob.createOutboundSession(device, claimFrom(dave)), MAX_OLM_KEY_BYTES);
    expect(bob.hasSession(device)).toBe(false);
    await expectStillWorks(bob);
  });

  it("a device's ed25519 key in createOutboundSession (ed25519_verify)", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const device = withKeys(dave.ownDevice, { ed25519: "A".repeat(OVERSIZE) });
    expectTooLarge(bob.createOutboundSession(device, claimFrom(dave)), MAX_OLM_KEY_BYTES);
    await expectStillWorks(bob);
  });

  it("a non-string key is malformedInput, not a throw", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const device = { ...dave.ownDevice, ed25519: 7 } as unknown as PeerDevice;
    expect(bob.createOutboundSession(device, claimFrom(dave))).toMatchObject({
      ok: false,
      reason: "malformedInput",
    });
    await expectStillWorks(bob);
  });
});

describe("an oversize claimed key object is refused before ed25519_verify", () => {
  function withSignature(dave: LibolmBackend, claimed: ClaimedOneTimeKey, signature: string) {
    const { userId, deviceId } = dave.ownDevice;
    return {
      ...claimed,
      keyObject: {
        ...claimed.keyObject,
        signatures: { [userId]: { [`ed25519:${deviceId}`]: signature } },
      },
    };
  }

  it("an oversize signature", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const claimed = withSignature(dave, claimFrom(dave), "A".repeat(OVERSIZE));
    expectTooLarge(bob.createOutboundSession(dave.ownDevice, claimed), MAX_ED25519_SIGNATURE_BYTES);
    expect(bob.hasSession(dave.ownDevice)).toBe(false);
    await expectStillWorks(bob);
  });

  it("an oversize signed object (its canonical JSON)", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const claimed = claimFrom(dave);
    const padded = { ...claimed, keyObject: { ...claimed.keyObject, pad: "x".repeat(OVERSIZE) } };
    expectTooLarge(bob.createOutboundSession(dave.ownDevice, padded), MAX_SIGNED_JSON_BYTES);
    // Nothing was used up: the genuine object still opens the session.
    expect(bob.createOutboundSession(dave.ownDevice, claimed)).toEqual({
      ok: true,
      value: undefined,
    });
    await expectStillWorks(bob);
  });

  it("a signature and a key right at their bounds reach libolm (and simply do not verify)", async () => {
    const bob = await backend("bob");
    const dave = await backend("dave");
    const claimed = withSignature(dave, claimFrom(dave), "A".repeat(MAX_ED25519_SIGNATURE_BYTES));
    expect(bob.createOutboundSession(dave.ownDevice, claimed)).toMatchObject({
      ok: false,
      reason: "badKeySignature",
    });
    const atBound = withKeys(dave.ownDevice, { ed25519: "A".repeat(MAX_OLM_KEY_BYTES) });
    expect(bob.createOutboundSession(atBound, claimFrom(dave))).toMatchObject({
      ok: false,
      reason: "badKeySignature",
    });
    await expectStillWorks(bob);
  });
});

describe("an oversize plaintext from the caller is refused before encrypt", () => {
  async function connected() {
    const alice = await backend("alice");
    const bob = await backend("bob");
    unwrap(alice.createOutboundSession(bob.ownDevice, claimFrom(bob)));
    return { alice, bob };
  }

  it.each<[string, string, JsonObject]>([
    ["a megabyte of content", "m.test", { pad: "x".repeat(1_000_000) }],
    ["an oversize event type", "x".repeat(OVERSIZE), {}],
    ["content over the limit only in UTF-8 bytes", "m.test", { pad: "€".repeat(8_000) }],
  ])("%s", async (_name, eventType, content) => {
    const { alice, bob } = await connected();
    expectTooLarge(alice.encrypt(bob.ownDevice, eventType, content), MAX_OLM_PLAINTEXT_BYTES);
    // The session is untouched: the next message is still its first (pre-key) message.
    const next = unwrap(alice.encrypt(bob.ownDevice, "m.test", {}));
    expect(ciphertextOf(next, bob.ownDevice).type).toBe(0);
    expect(bob.decrypt(alice.ownDevice, asJson(next))).toMatchObject({ ok: true });
    await expectStillWorks(alice);
  });
});

describe("signJson refuses an oversize payload before Account.sign", () => {
  it("and libolm still works", async () => {
    const raw = RawPeer.create("erin");
    const { userId, deviceId } = raw.device;
    expectTooLarge(
      signJson(raw.account, userId, deviceId, { pad: "x".repeat(OVERSIZE) }),
      MAX_SIGNED_JSON_BYTES,
    );
    await expectStillWorks(await backend("bob"));
  });
});

describe("inputs right at the bounds still work", () => {
  /** The content that makes Alice's plaintext to Bob exactly `bytes` UTF-8 bytes. */
  function contentOfPlaintextSize(alice: LibolmBackend, bob: LibolmBackend, bytes: number) {
    const plaintextBytes = (pad: string) =>
      Buffer.byteLength(
        JSON.stringify(
          buildOlmPlaintext({
            sender: alice.ownDevice,
            senderDeviceKeys: alice.signedDeviceKeys(),
            recipient: bob.ownDevice,
            type: "m.test",
            content: { pad },
          }),
        ),
      );
    const pad = "x".repeat(bytes - plaintextBytes(""));
    expect(plaintextBytes(pad)).toBe(bytes);
    return { pad };
  }

  it("a plaintext of exactly MAX_OLM_PLAINTEXT_BYTES encrypts, fits MAX_OLM_BODY_BYTES, decrypts", async () => {
    const alice = await backend("alice");
    const bob = await backend("bob");
    unwrap(alice.createOutboundSession(bob.ownDevice, claimFrom(bob)));
    const over = contentOfPlaintextSize(alice, bob, MAX_OLM_PLAINTEXT_BYTES + 1);
    expectTooLarge(alice.encrypt(bob.ownDevice, "m.test", over), MAX_OLM_PLAINTEXT_BYTES);
    const content = contentOfPlaintextSize(alice, bob, MAX_OLM_PLAINTEXT_BYTES);
    const sent = unwrap(alice.encrypt(bob.ownDevice, "m.test", content));
    const { type, body } = ciphertextOf(sent, bob.ownDevice);
    // A pre-key message is the larger kind: the largest message we make, we accept.
    expect(type).toBe(0);
    expect(body.length).toBeLessThanOrEqual(MAX_OLM_BODY_BYTES);
    expect(body.length).toBeGreaterThan(MAX_OLM_BODY_BYTES * 0.95);
    expect(bob.decrypt(alice.ownDevice, asJson(sent))).toMatchObject({
      ok: true,
      value: { type: "m.test", content, newSession: true },
    });
    await expectStillWorks(bob);
  });

  it.each([0, 1])("a type %i body of exactly MAX_OLM_BODY_BYTES reaches libolm", async (type) => {
    const { bob, alice } = type === 0 ? await bobAndRawAlice() : await bobAndRawAliceTalking();
    const envelope = (length: number) => ({
      algorithm: OLM_ALGORITHM,
      sender_key: alice.device.curve25519,
      ciphertext: { [bob.ownDevice.curve25519]: { type, body: "A".repeat(length) } },
    });
    expect(bob.decrypt(alice.device, envelope(MAX_OLM_BODY_BYTES))).toMatchObject({
      ok: false,
      reason: "decryptionFailed",
    });
    expectTooLarge(bob.decrypt(alice.device, envelope(MAX_OLM_BODY_BYTES + 1)), MAX_OLM_BODY_BYTES);
    await expectStillWorks(bob);
  });

  it("an object whose canonical JSON is exactly MAX_SIGNED_JSON_BYTES signs and verifies", async () => {
    const raw = RawPeer.create("erin");
    const { userId, deviceId, ed25519 } = raw.device;
    const objectOf = (bytes: number): JsonObject => {
      const base = unwrap(signingPayload({ pad: "" })).length;
      const object = { pad: "x".repeat(bytes - base) };
      expect(Buffer.byteLength(unwrap(signingPayload(object)))).toBe(bytes);
      return object;
    };
    const signed = unwrap(signJson(raw.account, userId, deviceId, objectOf(MAX_SIGNED_JSON_BYTES)));
    expect(verifyJsonSignature(signed, userId, deviceId, ed25519)).toEqual({
      ok: true,
      value: undefined,
    });
    expectTooLarge(
      signJson(raw.account, userId, deviceId, objectOf(MAX_SIGNED_JSON_BYTES + 1)),
      MAX_SIGNED_JSON_BYTES,
    );
    const grown = { ...signed, pad: `${String(signed.pad)}x` };
    expectTooLarge(verifyJsonSignature(grown, userId, deviceId, ed25519), MAX_SIGNED_JSON_BYTES);
    await expectStillWorks(await backend("bob"));
  });
});

describe("olmByteLength counts what libolm's binding allocates", () => {
  test.prop([fc.string({ unit: "binary", maxLength: 200 })])(
    "the UTF-8 length of a well-formed string",
    (value) => {
      expect(olmByteLength(value, 10_000)).toBe(Buffer.byteLength(value, "utf8"));
    },
  );

  it("a lone surrogate as libolm counts it (4 bytes, swallowing the next unit)", () => {
    expect(olmByteLength("\ud800", 100)).toBe(4);
    expect(olmByteLength("\ud800a", 100)).toBe(4);
    expect(olmByteLength("a\udfff", 100)).toBe(5);
  });

  it("stops at limit + 1, however long the string", () => {
    expect(olmByteLength("x".repeat(10_000_000), 64)).toBe(65);
    expect(olmByteLength("€".repeat(1_000), 64)).toBe(65);
    expect(exceedsOlmLimit("A key", "x".repeat(64), 64)).toBeUndefined();
    expect(exceedsOlmLimit("A key", "x".repeat(65), 64)).toMatchObject({
      reason: "inputTooLarge",
    });
  });
});
