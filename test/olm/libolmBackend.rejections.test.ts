import { fc, test } from "@fast-check/vitest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import type { LibolmBackend, OlmFailureReason } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";
import { backend, ciphertextOf, claimFrom, freeFixtures, loadOlm, RawPeer } from "./olmFixtures.js";

beforeAll(loadOlm);

/** Bob, and a raw-libolm Alice holding a pre-key session on one of Bob's one-time keys. */
async function bobAndRawAlice() {
  const bob = await backend("bob");
  const alice = RawPeer.create("alice");
  const eve = RawPeer.create("eve");
  const claimed = claimFrom(bob);
  const session = alice.outboundTo(bob.ownDevice, claimed);
  return { bob, alice, eve, claimed, session };
}

/** The one-time key is still there: a fresh honest session on it is accepted. */
function expectKeyStillUsable(
  bob: LibolmBackend,
  alice: RawPeer,
  claimed: ReturnType<typeof claimFrom>,
): void {
  const fresh = alice.outboundTo(bob.ownDevice, claimed);
  const honest = alice.envelope(fresh, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
  expect(bob.decrypt(alice.device, honest)).toMatchObject({
    ok: true,
    value: { newSession: true },
  });
}

describe("a pre-key message whose plaintext lies", () => {
  afterEach(freeFixtures);

  it.each<[string, (eve: RawPeer) => JsonObject]>([
    ["another recipient", (eve) => ({ recipient: eve.device.userId })],
    ["another recipient key", (eve) => ({ recipient_keys: { ed25519: eve.device.ed25519 } })],
    ["another sender", (eve) => ({ sender: eve.device.userId })],
    ["another sender signing key", (eve) => ({ keys: { ed25519: eve.device.ed25519 } })],
    ["another sender_device", () => ({ sender_device: "EVEDEVICE" })],
  ])("naming %s is a payloadMismatch that changes nothing", async (_name, lie) => {
    const { bob, alice, eve, claimed, session } = await bobAndRawAlice();
    const lying = alice.envelope(
      session,
      bob.ownDevice,
      alice.plaintextFor(bob.ownDevice, lie(eve)),
    );
    expect(bob.decrypt(alice.device, lying)).toMatchObject({
      ok: false,
      reason: "payloadMismatch",
    });
    expect(bob.hasSession(alice.device)).toBe(false);
    expectKeyStillUsable(bob, alice, claimed);
  });

  it("with the sender_device of the sender it is accepted", async () => {
    const { bob, alice, session } = await bobAndRawAlice();
    const plaintext = alice.plaintextFor(bob.ownDevice, { sender_device: alice.device.deviceId });
    const content = alice.envelope(session, bob.ownDevice, plaintext);
    expect(bob.decrypt(alice.device, content)).toMatchObject({
      ok: true,
      value: { newSession: true },
    });
  });

  it.each([
    ["is not JSON", "not json"],
    ["is a JSON array", "[]"],
    ["has no content", JSON.stringify({ type: "m.dummy" })],
  ])("that %s is malformedInput that changes nothing", async (_name, text) => {
    const { bob, alice, claimed, session } = await bobAndRawAlice();
    expect(bob.decrypt(alice.device, alice.envelope(session, bob.ownDevice, text))).toMatchObject({
      ok: false,
      reason: "malformedInput",
    });
    expect(bob.hasSession(alice.device)).toBe(false);
    expectKeyStillUsable(bob, alice, claimed);
  });
});

describe("a normal message on an established session whose plaintext lies", () => {
  afterEach(freeFixtures);

  it("is a payloadMismatch, and the session still carries honest messages", async () => {
    const { bob, alice, eve, session } = await bobAndRawAlice();
    unwrap(
      bob.decrypt(
        alice.device,
        alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice)),
      ),
    );
    const reply = ciphertextOf(unwrap(bob.encrypt(alice.device, "m.dummy", {})), alice.device);
    session.decrypt(reply.type, reply.body);

    const lying = alice.envelope(
      session,
      bob.ownDevice,
      alice.plaintextFor(bob.ownDevice, { sender: eve.device.userId }),
    );
    expect(ciphertextOf(lying, bob.ownDevice).type).toBe(1);
    expect(bob.decrypt(alice.device, lying)).toMatchObject({
      ok: false,
      reason: "payloadMismatch",
    });
    const honest = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, honest)).toMatchObject({
      ok: true,
      value: { newSession: false },
    });
  });
});

describe("an envelope from or for the wrong device", () => {
  afterEach(freeFixtures);

  it("a sender_key that is not the sender's is notForUs", async () => {
    const { bob, alice, eve, claimed, session } = await bobAndRawAlice();
    const content = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(eve.device, content)).toMatchObject({ ok: false, reason: "notForUs" });
    expect(
      bob.decrypt(alice.device, { ...content, sender_key: eve.device.curve25519 }),
    ).toMatchObject({
      ok: false,
      reason: "notForUs",
    });
    expectKeyStillUsable(bob, alice, claimed);
  });

  it("a message encrypted by Eve but labelled with Alice's identity key does not open a session", async () => {
    const { bob, alice, eve, claimed } = await bobAndRawAlice();
    const eveSession = eve.outboundTo(bob.ownDevice, claimed);
    const forged = {
      ...eve.envelope(eveSession, bob.ownDevice, alice.plaintextFor(bob.ownDevice)),
    };
    const labelled = { ...forged, sender_key: alice.device.curve25519 };
    expect(bob.decrypt(alice.device, labelled)).toEqual({
      ok: false,
      reason: "decryptionFailed",
      detail: "OLM.BAD_MESSAGE_KEY_ID",
    });
    expect(bob.hasSession(alice.device)).toBe(false);
    expectKeyStillUsable(bob, alice, claimed);
  });

  it("a ciphertext map without our identity key is notForUs", async () => {
    const { bob, alice, eve, session } = await bobAndRawAlice();
    const content = alice.envelope(session, eve.device, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, content)).toMatchObject({ ok: false, reason: "notForUs" });
  });
});

describe("malformed envelopes", () => {
  afterEach(freeFixtures);

  it("are refused as data", async () => {
    const { bob, alice, session } = await bobAndRawAlice();
    const valid = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    const mine = (entry: unknown) => ({
      ...valid,
      ciphertext: { [bob.ownDevice.curve25519]: entry },
    });
    const cases: readonly (readonly [unknown, OlmFailureReason])[] = [
      [null, "malformedInput"],
      ["text", "malformedInput"],
      [[valid], "malformedInput"],
      [{ ...valid, algorithm: "m.megolm.v1.aes-sha2" }, "malformedInput"],
      [{ ...valid, algorithm: undefined }, "malformedInput"],
      [{ ...valid, sender_key: 5 }, "malformedInput"],
      [{ ...valid, ciphertext: "AwogGJJz" }, "malformedInput"],
      [mine("AwogGJJz"), "malformedInput"],
      [mine({ type: 2, body: "AwogGJJz" }), "malformedInput"],
      [mine({ type: "0", body: "AwogGJJz" }), "malformedInput"],
      [mine({ type: 0, body: "" }), "malformedInput"],
      [mine({ type: 0, body: 7 }), "malformedInput"],
      [mine({ type: 0, body: "garbage!" }), "decryptionFailed"],
      [mine({ type: 0, body: "AwogGJJz" }), "decryptionFailed"],
      [mine({ type: 1, body: "AwogGJJz" }), "decryptionFailed"],
    ];
    for (const [content, reason] of cases) {
      expect(bob.decrypt(alice.device, content as JsonObject)).toMatchObject({ ok: false, reason });
    }
    expect(bob.hasSession(alice.device)).toBe(false);
    expect(bob.decrypt(alice.device, valid)).toMatchObject({ ok: true });
  });
});

describe("mutated envelopes (property)", () => {
  let fixture: Awaited<ReturnType<typeof bobAndRawAlice>>;
  let valid: JsonObject;

  beforeAll(async () => {
    fixture = await bobAndRawAlice();
    const { bob, alice, session } = fixture;
    valid = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
  });
  afterAll(freeFixtures);

  const key = fc.constantFrom("algorithm", "sender_key", "ciphertext", "extra");
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("drop" as const), key }),
    fc.record({ kind: fc.constant("set" as const), key, value: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({
      kind: fc.constant("entry" as const),
      key: fc.constantFrom("type", "body", "extra"),
      value: fc.jsonValue({ maxDepth: 2 }),
    }),
    fc.record({
      kind: fc.constant("body" as const),
      at: fc.nat(),
      char: fc.constantFrom("A", "z", "+", "=", "!"),
    }),
    fc.record({ kind: fc.constant("replace" as const), value: fc.anything() }),
  );

  function mutate(
    content: JsonObject,
    change: typeof mutation extends fc.Arbitrary<infer M> ? M : never,
  ): unknown {
    const entry = ciphertextOf(content, fixture.bob.ownDevice);
    const withEntry = (next: unknown) => ({
      ...content,
      ciphertext: { [fixture.bob.ownDevice.curve25519]: next },
    });
    switch (change.kind) {
      case "drop": {
        const { [change.key]: _dropped, ...rest } = content;
        return rest;
      }
      case "set":
        return { ...content, [change.key]: change.value };
      case "entry":
        return withEntry({ ...entry, [change.key]: change.value });
      case "body": {
        const at = change.at % entry.body.length;
        return withEntry({
          ...entry,
          body: entry.body.slice(0, at) + change.char + entry.body.slice(at + 1),
        });
      }
      case "replace":
        return change.value;
    }
  }

  const seen = new Set<string>();
  const failures: readonly OlmFailureReason[] = [
    "malformedInput",
    "notForUs",
    "decryptionFailed",
    "payloadMismatch",
  ];

  test.prop([mutation], { numRuns: 300 })(
    "never throw; a refusal leaves the sessions as they were",
    (change) => {
      const { bob, alice } = fixture;
      const before = bob.hasSession(alice.device);
      const result = bob.decrypt(alice.device, mutate(valid, change) as JsonObject);
      seen.add(result.ok ? "ok" : result.reason);
      if (result.ok) {
        expect(result.value.type).toBe("m.dummy");
      } else {
        expect(failures).toContain(result.reason);
        expect(bob.hasSession(alice.device)).toBe(before);
      }
    },
  );

  it("reached the shape checks, the routing checks and libolm itself", () => {
    expect([...seen]).toEqual(
      expect.arrayContaining(["malformedInput", "notForUs", "decryptionFailed"]),
    );
  });
});

describe("a claimed key that does not check out", () => {
  afterEach(freeFixtures);

  it.each<
    [
      string,
      (claim: ReturnType<typeof claimFrom>, other: ReturnType<typeof claimFrom>) => unknown,
      string,
    ]
  >([
    [
      "a key swapped under Bob's signature",
      (claim, other) => ({ ...claim, keyObject: { ...claim.keyObject, key: other.keyObject.key } }),
      "badKeySignature",
    ],
    ["a key signed by another device", (_claim, other) => other, "badKeySignature"],
    [
      "a one-time key passed off as a fallback key",
      (claim) => ({ ...claim, keyObject: { ...claim.keyObject, fallback: true } }),
      "badKeySignature",
    ],
    ["an unsigned key id", (claim) => ({ ...claim, keyId: "curve25519:AAAAAQ" }), "malformedInput"],
    [
      "no signatures",
      (claim) => ({ ...claim, keyObject: { key: claim.keyObject.key } }),
      "malformedInput",
    ],
    [
      "a key that is not a curve25519 key",
      (claim) => ({ ...claim, keyObject: { ...claim.keyObject, key: "xyz" } }),
      "malformedInput",
    ],
    [
      "a key object that is an array",
      (claim) => ({ ...claim, keyObject: [claim.keyObject] }),
      "malformedInput",
    ],
  ])("%s: refused before any session exists", async (_name, tamper, reason) => {
    const alice = await backend("alice");
    const bob = await backend("bob");
    const carol = RawPeer.create("carol");
    const claimed = tamper(claimFrom(bob), carol.claimable());
    expect(
      alice.createOutboundSession(bob.ownDevice, claimed as ReturnType<typeof claimFrom>),
    ).toMatchObject({
      ok: false,
      reason,
    });
    expect(alice.hasSession(bob.ownDevice)).toBe(false);
  });
});
