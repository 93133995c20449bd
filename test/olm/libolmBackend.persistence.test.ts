import { fc, test } from "@fast-check/vitest";
import Olm from "@matrix-org/olm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import {
  LibolmBackend,
  MAX_ACCOUNT_PICKLE_BYTES,
  MAX_SESSION_PICKLE_BYTES,
} from "../../src/olm/index.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import type { StoredOlmState } from "../../src/store/keyWithholdingStore.js";
import { unwrap } from "../events/fixtures.js";
import { ciphertextOf, freeFixtures, loadOlm, oneTimeKeyOfPreKey, RawPeer } from "./olmFixtures.js";
import {
  asJson,
  commitChanges,
  disposeOpened,
  openBob,
  optionsFor,
  pickleKeyOf,
  StoredDevice,
  storeAnswering,
} from "./persistenceFixtures.js";

beforeAll(loadOlm);
afterEach(() => {
  vi.restoreAllMocks();
  disposeOpened();
  freeFixtures();
});

/** Encrypts from one stored device to another and commits the sender's changes. */
async function send(
  from: StoredDevice,
  to: StoredDevice,
  content: JsonObject,
): Promise<JsonObject> {
  const message = asJson(unwrap(from.backend.encrypt(to.backend.ownDevice, "m.dummy", content)));
  await from.save();
  return message;
}

async function receive(at: StoredDevice, from: StoredDevice, message: JsonObject) {
  const result = at.backend.decrypt(from.backend.ownDevice, message);
  await at.save();
  return result;
}

/** Alice opened a session to Bob over one of his published keys; Bob accepted her first message. */
async function connected(): Promise<{ alice: StoredDevice; bob: StoredDevice }> {
  const alice = await StoredDevice.open("alice");
  const bob = await StoredDevice.open("bob");
  unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
  await alice.save();
  unwrap(await receive(bob, alice, await send(alice, bob, { n: 0 })));
  return { alice, bob };
}

/** A real stored state to take apart: Bob with a session with Alice. */
async function storedState(): Promise<{
  state: StoredOlmState;
  alicePeer: string;
  alice: StoredDevice;
}> {
  const { alice, bob } = await connected();
  const state = await bob.store.loadOlm();
  if (state === undefined) throw new Error("nothing stored");
  return { state, alicePeer: alice.backend.ownDevice.curve25519, alice };
}

describe("LibolmBackend.open", () => {
  it("creates an account and commits it before returning when the store has none", async () => {
    const store = new InMemoryStore();
    const bob = unwrap(await openBob(store));
    expect(store.commits).toBe(1);
    expect(await store.loadOlm()).toEqual({
      account: { pickle: expect.any(String) },
      sessions: [],
    });
    expect(bob.takeChanges()).toBeUndefined();
  });

  it("restores the same identity keys and signed device keys", async () => {
    const bob = await StoredDevice.open("bob");
    const device = bob.backend.ownDevice;
    const deviceKeys = bob.backend.signedDeviceKeys();
    await bob.restart();
    expect(bob.backend.ownDevice).toEqual(device);
    expect(bob.backend.signedDeviceKeys()).toEqual(deviceKeys);
  });

  it.each([
    ["no pickle key", undefined],
    ["a 31-byte key", new Uint8Array(31)],
    ["a 1025-byte key", new Uint8Array(1025)],
    ["a string", "a pickle key of more than 32 characters"],
  ])("refuses %s as invalidArgument", async (_name, pickleKey) => {
    const store = new InMemoryStore();
    const result = await LibolmBackend.open({
      ...optionsFor("bob"),
      store,
      pickleKey: pickleKey as Uint8Array,
    });
    expect(result).toMatchObject({ ok: false, reason: "invalidArgument" });
    expect(store.commits).toBe(0);
  });

  it("keeps its own copy of the pickle key, so the caller may wipe its array", async () => {
    const store = new InMemoryStore();
    const key = pickleKeyOf("bob");
    const bob = unwrap(await openBob(store, key));
    key.fill(0);
    unwrap(bob.generateOneTimeKeys(2));
    await commitChanges(store, bob.takeChanges());
    expect(unwrap(await openBob(store)).ownDevice).toEqual(bob.ownDevice);
  });
});

describe("create", () => {
  it.each([0, 1.5, Number.POSITIVE_INFINITY])("refuses maxPeers %s", async (maxPeers) => {
    expect(await LibolmBackend.create({ ...optionsFor("bob"), maxPeers })).toMatchObject({
      ok: false,
      reason: "invalidArgument",
    });
  });

  it("without a pickle key offers no changes at all", async () => {
    const bob = unwrap(await LibolmBackend.create(optionsFor("bob")));
    unwrap(bob.generateOneTimeKeys(3));
    unwrap(bob.generateFallbackKey());
    expect(bob.takeChanges()).toBeUndefined();
    bob.dispose();
  });

  it("with a pickle key offers the new account, then nothing", async () => {
    const bob = unwrap(
      await LibolmBackend.create({ ...optionsFor("bob"), pickleKey: pickleKeyOf("bob") }),
    );
    expect(bob.takeChanges()).toEqual({ account: { pickle: expect.any(String) }, sessions: [] });
    expect(bob.takeChanges()).toBeUndefined();
    bob.dispose();
  });
});

describe("after a restart", () => {
  it("sessions continue in both directions", async () => {
    const { alice, bob } = await connected();
    await alice.restart();
    await bob.restart();
    const reply = await send(bob, alice, { n: 1 });
    await alice.restart();
    expect(unwrap(await receive(alice, bob, reply))).toEqual({
      type: "m.dummy",
      content: { n: 1 },
      newSession: false,
    });
    await alice.restart();
    const next = await send(alice, bob, { n: 2 });
    await bob.restart();
    expect(unwrap(await receive(bob, alice, next)).content).toEqual({ n: 2 });
  });

  it("a message encrypted before the sender's restart decrypts after the recipient's", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    const first = await send(alice, bob, { n: 1 });
    await alice.restart();
    const second = await send(alice, bob, { n: 2 });
    await bob.restart();
    expect(unwrap(await receive(bob, alice, first)).newSession).toBe(true);
    expect(unwrap(await receive(bob, alice, second))).toMatchObject({
      content: { n: 2 },
      newSession: false,
    });
  });

  it("a one-time key published before it still opens an inbound session", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    const claimed = await bob.claim();
    await bob.restart();
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, claimed));
    const message = await send(alice, bob, { n: 1 });
    expect(oneTimeKeyOfPreKey(ciphertextOf(message, bob.backend.ownDevice).body)).toBe(
      claimed.keyObject.key,
    );
    expect(unwrap(await receive(bob, alice, message))).toMatchObject({ newSession: true });
  });

  it("a fallback key published before it still opens inbound sessions", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    const [entry] = Object.entries(unwrap(bob.backend.generateFallbackKey()));
    if (entry === undefined) throw new Error("no fallback key");
    await bob.restart();
    unwrap(
      alice.backend.createOutboundSession(bob.backend.ownDevice, {
        keyId: entry[0],
        keyObject: entry[1],
      }),
    );
    expect(unwrap(await receive(bob, alice, await send(alice, bob, {}))).newSession).toBe(true);
  });

  it("a used one-time key stays used: the replayed pre-key message opens no new session", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    const preKey = await send(alice, bob, { n: 1 });
    unwrap(await receive(bob, alice, preKey));
    // Without the session, only the one-time key could accept the message again.
    expect(bob.backend.forgetSessions(alice.backend.ownDevice)).toBe(1);
    await bob.restart();
    expect(bob.backend.decrypt(alice.backend.ownDevice, preKey)).toEqual({
      ok: false,
      reason: "decryptionFailed",
      detail: "OLM.BAD_MESSAGE_KEY_ID",
    });
    expect(bob.backend.hasSession(alice.backend.ownDevice)).toBe(false);
    expect(bob.backend.takeChanges()).toBeUndefined();
  });

  it("a replayed pre-key message fails on the restored session and changes nothing", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    const preKey = await send(alice, bob, { n: 1 });
    unwrap(await receive(bob, alice, preKey));
    await bob.restart();
    expect(bob.backend.decrypt(alice.backend.ownDevice, preKey)).toMatchObject({ ok: false });
    expect(bob.backend.takeChanges()).toBeUndefined();
    await bob.restart();
    expect((await bob.store.loadOlm())?.sessions[0]?.pickles).toHaveLength(1);
  });

  it("the best session before is the best after", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    const first = await bob.claim();
    const second = await bob.claim();
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, first));
    unwrap(await receive(bob, alice, await send(alice, bob, { n: 1 })));
    const reply = await send(bob, alice, { reply: 1 });
    // The newer session is best while neither has received anything …
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, second));
    await alice.save();
    await alice.restart();
    const viaSecond = ciphertextOf(await send(alice, bob, { n: 2 }), bob.backend.ownDevice);
    expect(oneTimeKeyOfPreKey(viaSecond.body)).toBe(second.keyObject.key);
    // … and the first is best once it has received Bob's reply, also after a restart.
    unwrap(await receive(alice, bob, reply));
    await alice.restart();
    const viaFirst = await send(alice, bob, { n: 3 });
    expect(ciphertextOf(viaFirst, bob.backend.ownDevice).type).toBe(1);
    await bob.restart();
    expect(unwrap(await receive(bob, alice, viaFirst))).toMatchObject({
      content: { n: 3 },
      newSession: false,
    });
  });
});

describe("takeChanges", () => {
  it("is undefined when nothing changed", async () => {
    const { alice, bob } = await connected();
    await bob.restart();
    expect(bob.backend.takeChanges()).toBeUndefined();
    bob.backend.hasSession(alice.backend.ownDevice);
    const forged = asJson({
      algorithm: "m.olm.v1.curve25519-aes-sha2",
      sender_key: alice.backend.ownDevice.curve25519,
      ciphertext: { [bob.backend.ownDevice.curve25519]: { type: 1, body: "AwogAAAA" } },
    });
    expect(bob.backend.decrypt(alice.backend.ownDevice, forged)).toMatchObject({ ok: false });
    expect(bob.backend.encrypt(bob.backend.ownDevice, "m.dummy", {})).toMatchObject({
      reason: "noSession",
    });
    expect(bob.backend.generateOneTimeKeys(101)).toMatchObject({ reason: "invalidArgument" });
    expect(bob.backend.takeChanges()).toBeUndefined();
  });

  it("reports exactly the peers touched, each with its full list best first", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    const carol = await StoredDevice.open("carol");
    const bobKey = bob.backend.ownDevice.curve25519;
    const carolKey = carol.backend.ownDevice.curve25519;
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    unwrap(alice.backend.createOutboundSession(carol.backend.ownDevice, await carol.claim()));
    const created = alice.backend.takeChanges();
    expect(created?.account).toBeUndefined();
    expect(created?.sessions.map((s) => [s.peer, s.pickles.length])).toEqual([
      [bobKey, 2],
      [carolKey, 1],
    ]);
    expect(alice.backend.takeChanges()).toBeUndefined();

    const toBob = asJson(unwrap(alice.backend.encrypt(bob.backend.ownDevice, "m.dummy", {})));
    const afterEncrypt = alice.backend.takeChanges();
    expect(afterEncrypt?.account).toBeUndefined();
    expect(afterEncrypt?.sessions.map((s) => [s.peer, s.pickles.length])).toEqual([[bobKey, 2]]);
    // The best session, the one just used, comes first and is the one whose pickle changed.
    expect(afterEncrypt?.sessions[0]?.pickles[0]).not.toBe(created?.sessions[0]?.pickles[0]);
    expect(afterEncrypt?.sessions[0]?.pickles[1]).toBe(created?.sessions[0]?.pickles[1]);

    // An inbound session uses up a one-time key: the account changed too.
    expect(unwrap(bob.backend.decrypt(alice.backend.ownDevice, toBob)).newSession).toBe(true);
    expect(bob.backend.takeChanges()).toEqual({
      account: { pickle: expect.any(String) },
      sessions: [{ peer: alice.backend.ownDevice.curve25519, pickles: [expect.any(String)] }],
    });
  });

  it("reports a session whose ratchet moved for a message that then failed the checks", async () => {
    const bob = await StoredDevice.open("bob");
    const alice = RawPeer.create("alice");
    const session = alice.outboundTo(bob.backend.ownDevice, await bob.claim());
    const honest = alice.envelope(
      session,
      bob.backend.ownDevice,
      alice.plaintextFor(bob.backend.ownDevice),
    );
    unwrap(bob.backend.decrypt(alice.device, honest));
    await bob.save();
    const lie = alice.plaintextFor(bob.backend.ownDevice, { sender: "@eve:example.org" });
    const lying = alice.envelope(session, bob.backend.ownDevice, lie);
    expect(bob.backend.decrypt(alice.device, lying)).toMatchObject({ reason: "payloadMismatch" });
    expect(bob.backend.takeChanges()).toEqual({
      account: undefined,
      sessions: [{ peer: alice.device.curve25519, pickles: [expect.any(String)] }],
    });
  });

  it("reports the account alone after key generation", async () => {
    const bob = await StoredDevice.open("bob");
    unwrap(bob.backend.generateOneTimeKeys(5));
    const changes = bob.backend.takeChanges();
    expect(changes).toEqual({ account: { pickle: expect.any(String) }, sessions: [] });
    unwrap(bob.backend.generateFallbackKey());
    expect(bob.backend.takeChanges()?.account?.pickle).not.toBe(changes?.account?.pickle);
  });

  it("leaves the account out when a call changed nothing in it", async () => {
    const alice = await StoredDevice.open("alice");
    const bob = await StoredDevice.open("bob");
    expect(unwrap(bob.backend.generateOneTimeKeys(0))).toEqual({});
    expect(bob.backend.takeChanges()).toBeUndefined();
    // A session on the fallback key uses nothing up: libolm keeps fallback keys.
    const [entry] = Object.entries(unwrap(bob.backend.generateFallbackKey()));
    if (entry === undefined) throw new Error("no fallback key");
    await bob.save();
    const claimed = { keyId: entry[0], keyObject: entry[1] };
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, claimed));
    unwrap(bob.backend.decrypt(alice.backend.ownDevice, await send(alice, bob, {})));
    expect(bob.backend.takeChanges()?.account).toBeUndefined();
  });

  it("reports a forgotten peer with no pickles, and the store drops it", async () => {
    const { alice, bob } = await connected();
    bob.backend.forgetSessions(alice.backend.ownDevice);
    expect(await bob.save()).toEqual({
      account: undefined,
      sessions: [{ peer: alice.backend.ownDevice.curve25519, pickles: [] }],
    });
    expect((await bob.store.loadOlm())?.sessions).toEqual([]);
    expect(bob.backend.forgetSessions(alice.backend.ownDevice)).toBe(0);
    expect(bob.backend.takeChanges()).toBeUndefined();
  });

  it("reports a peer evicted beyond maxPeers with no pickles", async () => {
    const alice = await StoredDevice.open("alice", { maxPeers: 1 });
    const bob = await StoredDevice.open("bob");
    const carol = await StoredDevice.open("carol");
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    await alice.save();
    unwrap(alice.backend.createOutboundSession(carol.backend.ownDevice, await carol.claim()));
    expect((await alice.save())?.sessions.map((s) => [s.peer, s.pickles.length])).toEqual([
      [carol.backend.ownDevice.curve25519, 1],
      [bob.backend.ownDevice.curve25519, 0],
    ]);
    await alice.restart();
    expect(alice.backend.hasSession(bob.backend.ownDevice)).toBe(false);
    expect(alice.backend.hasSession(carol.backend.ownDevice)).toBe(true);
  });

  it("evicts the peer least recently active, counting received messages", async () => {
    const alice = await StoredDevice.open("alice", { maxPeers: 2 });
    const [bob, carol, dave] = await Promise.all(
      ["bob", "carol", "dave"].map((name) => StoredDevice.open(name)),
    );
    if (bob === undefined || carol === undefined || dave === undefined) throw new Error("missing");
    unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
    unwrap(alice.backend.createOutboundSession(carol.backend.ownDevice, await carol.claim()));
    unwrap(await receive(bob, alice, await send(alice, bob, {})));
    unwrap(await receive(alice, bob, await send(bob, alice, {})));
    await alice.save();
    unwrap(alice.backend.createOutboundSession(dave.backend.ownDevice, await dave.claim()));
    expect((await alice.save())?.sessions).toEqual([
      { peer: dave.backend.ownDevice.curve25519, pickles: [expect.any(String)] },
      { peer: carol.backend.ownDevice.curve25519, pickles: [] },
    ]);
    expect(alice.backend.hasSession(bob.backend.ownDevice)).toBe(true);
  });

  it("hands out changes not yet taken once more after dispose", async () => {
    const bob = await StoredDevice.open("bob");
    unwrap(bob.backend.generateOneTimeKeys(1));
    bob.backend.dispose();
    expect(bob.backend.takeChanges()?.account).toBeDefined();
    expect(bob.backend.takeChanges()).toBeUndefined();
  });
});

describe("a pickling failure", () => {
  it("fails the operation and disposes the backend, leaving the store consistent", async () => {
    const { alice, bob } = await connected();
    vi.spyOn(Olm.Session.prototype, "pickle").mockImplementation(() => {
      throw new Error("OLM.OUTPUT_BUFFER_TOO_SMALL");
    });
    const failed = alice.backend.encrypt(bob.backend.ownDevice, "m.dummy", { lost: true });
    expect(failed).toMatchObject({ ok: false, reason: "encryptionFailed" });
    expect(failed.ok ? "" : failed.detail).toContain("the backend is disposed");
    expect(alice.backend.encrypt(bob.backend.ownDevice, "m.dummy", {})).toMatchObject({
      reason: "disposed",
    });
    expect(alice.backend.takeChanges()).toBeUndefined();
    vi.restoreAllMocks();
    await alice.restart();
    expect(unwrap(await receive(bob, alice, await send(alice, bob, { n: 1 }))).content).toEqual({
      n: 1,
    });
  });
});

describe("a stored state that cannot be restored", () => {
  it("under another pickle key is badPickle", async () => {
    const store = new InMemoryStore();
    unwrap(await openBob(store));
    expect(await openBob(store, pickleKeyOf("mallory"))).toEqual({
      ok: false,
      reason: "badPickle",
      detail: "The account pickle: OLM.BAD_ACCOUNT_KEY",
    });
  });

  it("with a session pickled under another key is badPickle naming the peer", async () => {
    const { state, alicePeer, alice } = await storedState();
    // Alice's end of the same session, pickled under Alice's key.
    const foreign = (await alice.store.loadOlm())?.sessions[0]?.pickles[0];
    const result = await openBob(
      storeAnswering(async () => ({
        ...state,
        sessions: [{ peer: alicePeer, pickles: [foreign] }],
      })),
    );
    expect(result).toMatchObject({ ok: false, reason: "badPickle" });
    expect(result.ok ? "" : result.detail).toContain(alicePeer);
  });

  const shapes: [string, (state: StoredOlmState, peer: string) => unknown][] = [
    ["null", () => null],
    ["a number", () => 42],
    ["an object without an account", (s) => ({ sessions: s.sessions })],
    ["a non-string account pickle", (s) => ({ ...s, account: { pickle: 7 } })],
    ["an empty account pickle", (s) => ({ ...s, account: { pickle: "" } })],
    ["garbage as the account pickle", (s) => ({ ...s, account: { pickle: "not base64!" } })],
    [
      "an oversized account pickle",
      (s) => ({ ...s, account: { pickle: "A".repeat(MAX_ACCOUNT_PICKLE_BYTES + 1) } }),
    ],
    [
      "an account pickle over the limit only in UTF-8 bytes",
      (s) => ({ ...s, account: { pickle: "é".repeat(MAX_ACCOUNT_PICKLE_BYTES / 2 + 1) } }),
    ],
    ["sessions that are not an array", (s) => ({ ...s, sessions: {} })],
    ["a peer that is not a key", (s) => ({ ...s, sessions: [{ peer: "bob", pickles: [] }] })],
    [
      "a peer listed twice",
      (s, peer) => ({
        ...s,
        sessions: [
          { peer, pickles: s.sessions[0]?.pickles },
          { peer, pickles: s.sessions[0]?.pickles },
        ],
      }),
    ],
    ["pickles that are not an array", (s, peer) => ({ ...s, sessions: [{ peer, pickles: "x" }] })],
    ["a non-string session pickle", (s, peer) => ({ ...s, sessions: [{ peer, pickles: [1] }] })],
    [
      "an oversized session pickle",
      (s, peer) => ({
        ...s,
        sessions: [{ peer, pickles: ["A".repeat(MAX_SESSION_PICKLE_BYTES + 1)] }],
      }),
    ],
    [
      "garbage as a session pickle",
      (s, peer) => ({ ...s, sessions: [{ peer, pickles: ["AAAAAAAAAAAA"] }] }),
    ],
    [
      "a session pickle that is an account pickle",
      (s, peer) => ({ ...s, sessions: [{ peer, pickles: [s.account.pickle] }] }),
    ],
    [
      "more peers than maxPeers",
      (s) => ({ ...s, sessions: Array.from({ length: 50_001 }, () => s.sessions[0]) }),
    ],
    [
      "an account behind a getter that throws",
      (s) => ({
        sessions: s.sessions,
        get account(): never {
          throw new Error("getter");
        },
      }),
    ],
    [
      "a proxy that throws",
      () =>
        new Proxy(
          {},
          {
            getOwnPropertyDescriptor() {
              throw new Error("trap");
            },
          },
        ),
    ],
  ];

  it.each(shapes)(
    "is badPickle for %s, and nothing is thrown or committed",
    async (_name, make) => {
      const { state, alicePeer } = await storedState();
      const store = storeAnswering(async () => make(state, alicePeer));
      const result = await openBob(store);
      expect(result).toMatchObject({ ok: false, reason: "badPickle", detail: expect.any(String) });
      expect(store.commits).toBe(0);
    },
  );

  it("keeps the best maxSessionsPerDevice of a longer stored list and reports the trim", async () => {
    const { state, alicePeer } = await storedState();
    const [pickle] = state.sessions[0]?.pickles ?? [];
    const store = storeAnswering(async () => ({
      ...state,
      sessions: [{ peer: alicePeer, pickles: [pickle, ...Array(10_000).fill("junk")] }],
    }));
    const bob = unwrap(await openBob(store, pickleKeyOf("bob"), { maxSessionsPerDevice: 1 }));
    expect(bob.takeChanges()).toEqual({
      account: undefined,
      sessions: [{ peer: alicePeer, pickles: [pickle] }],
    });
  });
});

describe("a store that fails", () => {
  it.each([
    ["loadOlm rejects", () => Promise.reject(new Error("disk on fire"))],
    [
      "loadOlm throws",
      () => {
        throw new TypeError("not a store");
      },
    ],
  ])("is storeFailed when %s", async (_name, loadOlm) => {
    const store = storeAnswering(loadOlm as () => Promise<unknown>);
    expect(await openBob(store)).toMatchObject({ ok: false, reason: "storeFailed" });
  });

  it("is storeFailed when the first commit of a new account rejects", async () => {
    const result = await openBob({
      loadOlm: async () => undefined,
      commit: () => Promise.reject(new Error("read-only")),
    });
    expect(result).toEqual({
      ok: false,
      reason: "storeFailed",
      detail: "The store failed: Error: read-only",
    });
  });
});

type Step =
  | { readonly kind: "send"; readonly from: 0 | 1 }
  | { readonly kind: "deliver"; readonly to: 0 | 1 }
  | { readonly kind: "replay"; readonly to: 0 | 1; readonly pick: number }
  | { readonly kind: "restart"; readonly who: 0 | 1 }
  /** Encrypts, then dies before the commit: the message is never sent. */
  | { readonly kind: "crash"; readonly who: 0 | 1 };

const side = fc.constantFrom<0 | 1>(0, 1);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("send" as const), from: side }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("deliver" as const), to: side }), weight: 2 },
  fc.record({ kind: fc.constant("replay" as const), to: side, pick: fc.nat() }),
  fc.record({ kind: fc.constant("restart" as const), who: side }),
  fc.record({ kind: fc.constant("crash" as const), who: side }),
);

describe("restarts at random points", () => {
  test.prop([fc.array(stepArb, { minLength: 10, maxLength: 40, size: "max" })], { numRuns: 20 })(
    "every message sent decrypts exactly once",
    async (steps) => {
      const alice = await StoredDevice.open("alice");
      const bob = await StoredDevice.open("bob");
      unwrap(alice.backend.createOutboundSession(bob.backend.ownDevice, await bob.claim()));
      await alice.save();
      const devices = [alice, bob] as const;
      const inFlight: [JsonObject[], JsonObject[]] = [[], []];
      const delivered: [JsonObject[], JsonObject[]] = [[], []];
      let next = 0;
      const deliver = async (to: 0 | 1) => {
        const message = inFlight[to].shift();
        if (message === undefined) return;
        const at = devices[to];
        const from = devices[1 - to] as StoredDevice;
        const result = unwrap(await receive(at, from, message));
        expect(result.content).toEqual({ n: expect.any(Number) });
        delivered[to].push(message);
      };
      for (const step of steps) {
        if (step.kind === "send") {
          const [from, to] = [devices[step.from], devices[1 - step.from] as StoredDevice];
          if (!from.backend.hasSession(to.backend.ownDevice)) continue;
          inFlight[(1 - step.from) as 0 | 1].push(await send(from, to, { n: next++ }));
        } else if (step.kind === "deliver") {
          await deliver(step.to);
        } else if (step.kind === "replay") {
          const old = delivered[step.to][step.pick % Math.max(1, delivered[step.to].length)];
          if (old === undefined) continue;
          const at = devices[step.to];
          const from = devices[1 - step.to] as StoredDevice;
          expect(at.backend.decrypt(from.backend.ownDevice, old)).toMatchObject({ ok: false });
          expect(at.backend.takeChanges()).toBeUndefined();
        } else if (step.kind === "restart") {
          await devices[step.who].restart();
        } else {
          const [who, peer] = [devices[step.who], devices[1 - step.who] as StoredDevice];
          if (who.backend.hasSession(peer.backend.ownDevice)) {
            unwrap(who.backend.encrypt(peer.backend.ownDevice, "m.dummy", { lost: true }));
          }
          await who.restart({ save: false });
        }
      }
      while (inFlight[0].length > 0 || inFlight[1].length > 0) {
        await deliver(0);
        await deliver(1);
      }
      expect(delivered[0].length + delivered[1].length).toBe(next);
    },
  );
});
