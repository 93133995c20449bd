import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import { unwrap } from "../events/fixtures.js";
import {
  backend,
  ciphertextOf,
  claimFrom,
  freeFixtures,
  loadOlm,
  oneTimeKeyOfPreKey,
  RawPeer,
} from "./olmFixtures.js";

beforeAll(loadOlm);
afterEach(freeFixtures);

const asJson = (content: unknown): JsonObject => content as JsonObject;

describe("choosing the session to encrypt with", () => {
  it("prefers the newest session until another one receives a message, then that one", async () => {
    const alice = await backend("alice");
    const bob = await backend("bob");
    const first = claimFrom(bob);
    const second = claimFrom(bob);

    unwrap(alice.createOutboundSession(bob.ownDevice, first));
    const m1 = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", { n: 1 }));
    unwrap(bob.decrypt(alice.ownDevice, asJson(m1)));
    const reply = unwrap(bob.encrypt(alice.ownDevice, "m.dummy", { reply: 1 }));

    // A second session to Bob, created after the first: with no message received on either, the
    // creation time decides, so Alice uses the new one (Bob's second one-time key).
    unwrap(alice.createOutboundSession(bob.ownDevice, second));
    const m2 = ciphertextOf(
      unwrap(alice.encrypt(bob.ownDevice, "m.dummy", { n: 2 })),
      bob.ownDevice,
    );
    expect(m2.type).toBe(0);
    expect(oneTimeKeyOfPreKey(m2.body)).toBe(second.keyObject.key);

    // Bob's reply arrives on the first session: now it has received most recently.
    expect(unwrap(alice.decrypt(bob.ownDevice, asJson(reply))).newSession).toBe(false);
    const m3 = unwrap(alice.encrypt(bob.ownDevice, "m.dummy", { n: 3 }));
    // Only the first session has received anything, so only it sends normal (type 1) messages.
    expect(ciphertextOf(m3, bob.ownDevice).type).toBe(1);
    expect(unwrap(bob.decrypt(alice.ownDevice, asJson(m3)))).toEqual({
      type: "m.dummy",
      content: { n: 3 },
      newSession: false,
    });
  });
});

describe("keeping sessions per device", () => {
  it("keeps at most maxSessionsPerDevice, dropping the least recently used", async () => {
    const bob = await backend("bob", 2);
    const alice = RawPeer.create("alice");
    const sessions = [claimFrom(bob), claimFrom(bob), claimFrom(bob)].map((claimed) =>
      alice.outboundTo(bob.ownDevice, claimed),
    );
    for (const session of sessions) {
      const content = alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
      expect(bob.decrypt(alice.device, content)).toMatchObject({
        ok: true,
        value: { newSession: true },
      });
    }
    const [oldest, middle] = sessions;
    if (oldest === undefined || middle === undefined) throw new Error("sessions missing");
    // Bob dropped the session of the first message, whose one-time key is used up: it is gone.
    const late = alice.envelope(oldest, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, late)).toEqual({
      ok: false,
      reason: "decryptionFailed",
      detail: "OLM.BAD_MESSAGE_KEY_ID",
    });
    // The second one is still kept.
    const kept = alice.envelope(middle, bob.ownDevice, alice.plaintextFor(bob.ownDevice));
    expect(bob.decrypt(alice.device, kept)).toMatchObject({
      ok: true,
      value: { newSession: false },
    });
  });

  it("keeps 5 sessions per device by default", async () => {
    const bob = await backend("bob");
    const alice = RawPeer.create("alice");
    const sessions = Array.from({ length: 6 }, () =>
      alice.outboundTo(bob.ownDevice, claimFrom(bob)),
    );
    for (const session of sessions) {
      unwrap(
        bob.decrypt(
          alice.device,
          alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice)),
        ),
      );
    }
    const results = sessions.map(
      (session) =>
        bob.decrypt(
          alice.device,
          alice.envelope(session, bob.ownDevice, alice.plaintextFor(bob.ownDevice)),
        ).ok,
    );
    expect(results).toEqual([false, true, true, true, true, true]);
  });
});
