import { describe, expect, it } from "vitest";
import {
  fakeOlmContent,
  fakePublicKey,
  fakeWithheldContent,
} from "../../src/testing/homeserver/fakeKeys.js";
import type { DeliveredMessage } from "../../src/testing/homeserver/index.js";
import type { SendToDeviceRequest } from "../../src/transport/transport.js";
import {
  ALICE,
  ALICE2,
  BOB,
  CAROL,
  dummyContent,
  homeserverWith,
  sendRequest,
  to,
} from "./harness.js";

const TEST_EVENT = "org.example.test";

describe("delivery", () => {
  it("puts each message in the recipient's inbox as a /sync to-device event, in order", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    for (const n of [1, 2, 3]) {
      const sent = await alice.sendToDevice(
        sendRequest(TEST_EVENT, `t${n}`, to(BOB, dummyContent(n))),
      );
      expect(sent).toEqual({ ok: true, value: undefined });
    }
    expect(hs.sync(BOB.userId, BOB.deviceId)).toEqual(
      [1, 2, 3].map((n) => ({
        type: TEST_EVENT,
        sender: ALICE.userId,
        content: { n },
      })),
    );
    expect(hs.sync(BOB.userId, BOB.deviceId)).toEqual([]);
    expect(hs.violations).toEqual([]);
  });

  it("logs every delivery with sender, recipient and txnId, and tells listeners", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const heard: DeliveredMessage[] = [];
    const stop = hs.onDeliver((message) => heard.push(message));
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t1", to(BOB, dummyContent(1))));
    stop();
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t2", to(BOB, dummyContent(2))));
    const first = {
      eventType: TEST_EVENT,
      sender: ALICE,
      recipient: BOB,
      txnId: "t1",
      content: { n: 1 },
    };
    expect(heard).toEqual([first]);
    expect(hs.deliveries).toEqual([first, { ...first, txnId: "t2", content: { n: 2 } }]);
    expect(Object.isFrozen(hs.deliveries[0]?.content)).toBe(true);
  });

  it("gives the recipient a copy: later edits by the sender change nothing", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const content = { list: [1] };
    await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .sendToDevice(sendRequest(TEST_EVENT, "t", to(BOB, content)));
    content.list.push(2);
    expect(hs.sync(BOB.userId, BOB.deviceId)[0]?.content).toEqual({ list: [1] });
  });

  it("expands '*' to every known device of the user", async () => {
    const hs = homeserverWith(ALICE, ALICE2, BOB);
    const bob = hs.transportFor(BOB.userId, BOB.deviceId);
    await bob.sendToDevice(
      sendRequest(TEST_EVENT, "t", { [ALICE.userId]: { "*": dummyContent(7) } }),
    );
    expect(hs.sync(ALICE.userId, ALICE.deviceId)).toHaveLength(1);
    expect(hs.sync(ALICE2.userId, ALICE2.deviceId)).toHaveLength(1);
    expect(hs.deliveries.map((d) => d.recipient)).toEqual([ALICE, ALICE2]);
  });

  it("drops messages to unknown users and devices silently", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    const sent = await alice.sendToDevice(
      sendRequest(TEST_EVENT, "t", {
        [BOB.userId]: { NOSUCHDEVICE: dummyContent(1), [BOB.deviceId]: dummyContent(2) },
        "@nobody:beta.example": { "*": dummyContent(3), X: dummyContent(4) },
      }),
    );
    expect(sent.ok).toBe(true);
    expect(hs.deliveries.map((d) => d.recipient)).toEqual([BOB]);
    expect(hs.dropped.map((d) => d.recipient.deviceId)).toEqual(["NOSUCHDEVICE", "*", "X"]);
    expect(hs.violations).toEqual([]);
  });

  it("counts requests per device and endpoint, refused and failed ones included", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    hs.failNext(ALICE, "sendToDevice", 1);
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1))));
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1))));
    await alice.sendToDevice(sendRequest(TEST_EVENT, "", to(BOB, dummyContent(1))));
    expect(hs.requestCount(ALICE, "sendToDevice")).toBe(3);
    expect(hs.requestCount(BOB, "sendToDevice")).toBe(0);
    expect(hs.requestCount(ALICE, "uploadKeys")).toBe(1);
  });
});

describe("spec checks on sends", () => {
  const cases: ReadonlyArray<readonly [string, string, string, unknown]> = [
    [
      "messages keyed by a non-@ user",
      "is not a user ID",
      TEST_EVENT,
      { messages: { bob: { BOB1: {} } } },
    ],
    ["no messages", "required property 'messages'", TEST_EVENT, {}],
    [
      "a content that is not an object",
      "must be object",
      TEST_EVENT,
      { messages: { [BOB.userId]: { [BOB.deviceId]: "text" } } },
    ],
    [
      "a withheld content missing algorithm",
      "required property 'algorithm'",
      "m.room_key.withheld",
      { messages: to(BOB, withoutField(fakeWithheldContent(), "algorithm")) },
    ],
    [
      "a withheld session code without room_id",
      "room_id is required",
      "m.room_key.withheld",
      { messages: to(BOB, withoutField(fakeWithheldContent(), "room_id")) },
    ],
    [
      "an unknown m.-prefixed withheld code",
      "allowed values",
      "m.room_key.withheld",
      { messages: to(BOB, fakeWithheldContent({ code: "m.made_up" })) },
    ],
    [
      "a custom withheld code that is not Java-package style",
      "Java-package",
      "m.room_key.withheld",
      { messages: to(BOB, fakeWithheldContent({ code: "not a package" })) },
    ],
    [
      "m.history_not_shared in m.room_key.withheld",
      "room key bundles",
      "m.room_key.withheld",
      { messages: to(BOB, fakeWithheldContent({ code: "m.history_not_shared" })) },
    ],
    [
      "an m.room.encrypted content missing ciphertext",
      "required property 'ciphertext'",
      "m.room.encrypted",
      { messages: to(BOB, withoutField(fakeOlmContent(fakePublicKey("bob")), "ciphertext")) },
    ],
    [
      "an Olm content missing sender_key",
      "sender_key is required",
      "m.room.encrypted",
      { messages: to(BOB, withoutField(fakeOlmContent(fakePublicKey("bob")), "sender_key")) },
    ],
    [
      "a Megolm-encrypted to-device message",
      "must use m.olm",
      "m.room.encrypted",
      {
        messages: to(BOB, {
          algorithm: "m.megolm.v1.aes-sha2",
          ciphertext: "AwgA",
          session_id: "s",
          sender_key: fakePublicKey("s"),
        }),
      },
    ],
    [
      "an Olm ciphertext entry without a type",
      "lacks an integer type",
      "m.room.encrypted",
      {
        messages: to(BOB, {
          ...fakeOlmContent("k"),
          ciphertext: { [fakePublicKey("bob")]: { body: "AwogX" } },
        }),
      },
    ],
    [
      "a field JSON cannot carry",
      "JSON cannot carry",
      TEST_EVENT,
      { messages: to(BOB, { x: Number.NaN }) },
    ],
  ];

  it.each(cases)("refuses %s and records it", async (_, problem, eventType, body) => {
    const hs = homeserverWith(ALICE, BOB);
    const request = { eventType, txnId: "t", body } as SendToDeviceRequest;
    const sent = await hs.transportFor(ALICE.userId, ALICE.deviceId).sendToDevice(request);
    expect(sent).toMatchObject({ ok: false, reason: "rejected" });
    expect(hs.violations).toHaveLength(1);
    expect(hs.violations[0]).toMatchObject({ endpoint: "sendToDevice", device: ALICE });
    expect(hs.violations[0]?.problems.join("\n")).toContain(problem);
    expect(hs.deliveries).toEqual([]);
  });

  it("refuses an empty txnId or event type", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    expect((await alice.sendToDevice(sendRequest(TEST_EVENT, "", to(BOB, {})))).ok).toBe(false);
    expect((await alice.sendToDevice(sendRequest("", "t", to(BOB, {})))).ok).toBe(false);
    expect(hs.violations).toHaveLength(2);
  });

  it("accepts spec-shaped withheld contents: custom codes and m.no_olm without a room", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    const noOlm = withoutField(
      withoutField(fakeWithheldContent({ code: "m.no_olm" }), "room_id"),
      "session_id",
    );
    const contents = [
      fakeWithheldContent(),
      fakeWithheldContent({ code: "com.example.not_in_room" }),
      noOlm,
    ];
    for (const [i, content] of contents.entries()) {
      const sent = await alice.sendToDevice(
        sendRequest("m.room_key.withheld", `w${i}`, to(BOB, content)),
      );
      expect(sent.ok).toBe(true);
    }
    expect(hs.violations).toEqual([]);
    expect(hs.sync(BOB.userId, BOB.deviceId).map((e) => e.content.code)).toEqual([
      "m.unverified",
      "com.example.not_in_room",
      "m.no_olm",
    ]);
  });

  it("accepts an Olm-encrypted to-device message", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const content = fakeOlmContent(fakePublicKey("bob curve"));
    const sent = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .sendToDevice(sendRequest("m.room.encrypted", "t", to(BOB, content)));
    expect(sent.ok).toBe(true);
    expect(hs.violations).toEqual([]);
  });

  it("never throws, whatever the library passes", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error("trap");
        },
      },
    );
    const requests: unknown[] = [
      null,
      undefined,
      42,
      { body: null },
      { eventType: "e", txnId: "t", body: { messages: { [BOB.userId]: { B: cyclic } } } },
      hostile,
    ];
    for (const request of requests) {
      const sent = await alice.sendToDevice(request as SendToDeviceRequest);
      expect(sent).toMatchObject({ ok: false, reason: "rejected" });
    }
    expect(hs.violations).toHaveLength(requests.length);
  });
});

describe("transaction ids", () => {
  it("acknowledges a repeated txnId but delivers it once", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    const request = sendRequest(TEST_EVENT, "same", to(BOB, dummyContent(1)));
    expect((await alice.sendToDevice(request)).ok).toBe(true);
    expect((await alice.sendToDevice(request)).ok).toBe(true);
    expect(hs.sync(BOB.userId, BOB.deviceId)).toHaveLength(1);
    expect(hs.violations).toEqual([]);
  });

  it("scopes txnIds per sending device: another device may use the same one", async () => {
    const hs = homeserverWith(ALICE, ALICE2, BOB);
    const request = sendRequest(TEST_EVENT, "same", to(BOB, dummyContent(1)));
    await hs.transportFor(ALICE.userId, ALICE.deviceId).sendToDevice(request);
    await hs.transportFor(ALICE2.userId, ALICE2.deviceId).sendToDevice(request);
    await hs.transportFor(CAROL.userId, CAROL.deviceId).sendToDevice(request);
    expect(hs.deliveries.map((d) => d.sender)).toEqual([ALICE, ALICE2, CAROL]);
  });

  it("records a txnId reused for a different body: a server would drop the new one", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    await alice.sendToDevice(sendRequest(TEST_EVENT, "same", to(BOB, dummyContent(1))));
    const reused = await alice.sendToDevice(
      sendRequest(TEST_EVENT, "same", to(BOB, dummyContent(2))),
    );
    expect(reused.ok).toBe(true);
    expect(hs.deliveries).toHaveLength(1);
    expect(hs.violations.map((v) => v.problems)).toEqual([[expect.stringContaining("reused")]]);
  });

  it("a refused request does not use up its txnId", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    await alice.sendToDevice(sendRequest("m.room_key.withheld", "t", to(BOB, {})));
    await alice.sendToDevice(
      sendRequest("m.room_key.withheld", "t", to(BOB, fakeWithheldContent())),
    );
    expect(hs.deliveries).toHaveLength(1);
  });
});

describe("injected faults", () => {
  it("failNext: the calls fail with the given reason and have no effect", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    hs.failNext(ALICE, "sendToDevice", 2, "rateLimited");
    const request = sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1)));
    expect(await alice.sendToDevice(request)).toMatchObject({ ok: false, reason: "rateLimited" });
    expect(await alice.sendToDevice(request)).toMatchObject({ ok: false, reason: "rateLimited" });
    expect(hs.deliveries).toEqual([]);
    expect(hs.pendingFaults(ALICE, "sendToDevice")).toBe(0);
    // The txnId was never seen, so the retry delivers.
    expect((await alice.sendToDevice(request)).ok).toBe(true);
    expect(hs.sync(BOB.userId, BOB.deviceId)).toHaveLength(1);
  });

  it("failNext skips validation too: the server never saw the request", async () => {
    const hs = homeserverWith(ALICE, BOB);
    hs.failNext(ALICE, "sendToDevice", 1);
    const bad = sendRequest(TEST_EVENT, "", to(BOB, {}));
    const sent = await hs.transportFor(ALICE.userId, ALICE.deviceId).sendToDevice(bad);
    expect(sent).toMatchObject({ ok: false, reason: "unreachable" });
    expect(hs.violations).toEqual([]);
  });

  it("faults are per device and per endpoint", async () => {
    const hs = homeserverWith(ALICE, ALICE2, BOB);
    hs.failNext(ALICE, "claimKeys", 1);
    const request = sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1)));
    expect((await hs.transportFor(ALICE.userId, ALICE.deviceId).sendToDevice(request)).ok).toBe(
      true,
    );
    hs.failNext(ALICE, "sendToDevice", 1);
    expect((await hs.transportFor(ALICE2.userId, ALICE2.deviceId).sendToDevice(request)).ok).toBe(
      true,
    );
    expect(hs.pendingFaults(ALICE, "sendToDevice")).toBe(1);
    expect(hs.pendingFaults(ALICE, "claimKeys")).toBe(1);
  });

  it("a lost response: delivered, the client sees a failure, its retry delivers nothing more", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    hs.loseNextResponses(ALICE, "sendToDevice", 1);
    const request = sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1)));
    expect(await alice.sendToDevice(request)).toMatchObject({ ok: false, reason: "unreachable" });
    expect(hs.deliveries).toHaveLength(1);
    expect(await alice.sendToDevice(request)).toEqual({ ok: true, value: undefined });
    expect(hs.sync(BOB.userId, BOB.deviceId)).toHaveLength(1);
    expect(hs.violations).toEqual([]);
  });

  it("a throwing delivery listener is recorded, not thrown into the sender", async () => {
    const hs = homeserverWith(ALICE, BOB);
    hs.onDeliver(() => {
      throw new Error("listener bug");
    });
    const sent = await hs
      .transportFor(ALICE.userId, ALICE.deviceId)
      .sendToDevice(sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1))));
    expect(sent.ok).toBe(true);
    expect(hs.violations).toMatchObject([
      { endpoint: "onDeliver", problems: [expect.stringContaining("listener bug")] },
    ]);
  });
});

describe("a server that is down", () => {
  it("its own devices cannot send: unreachable, no effect, queued faults left alone", async () => {
    const hs = homeserverWith(ALICE, BOB);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    hs.failNext(ALICE, "sendToDevice", 1, "rateLimited");
    hs.setServerDown("alpha.example", true);
    const request = sendRequest(TEST_EVENT, "t", to(BOB, dummyContent(1)));
    expect(await alice.sendToDevice(request)).toMatchObject({ ok: false, reason: "unreachable" });
    hs.setServerDown("alpha.example", false);
    expect(await alice.sendToDevice(request)).toMatchObject({ ok: false, reason: "rateLimited" });
    expect((await alice.sendToDevice(request)).ok).toBe(true);
    expect(hs.deliveries).toHaveLength(1);
  });

  it("messages for its users wait, and arrive in order when it is back", async () => {
    const hs = homeserverWith(ALICE, BOB, CAROL);
    const alice = hs.transportFor(ALICE.userId, ALICE.deviceId);
    hs.setServerDown("beta.example", true);
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t1", to(BOB, dummyContent(1))));
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t2", to(CAROL, dummyContent(2))));
    await alice.sendToDevice(sendRequest(TEST_EVENT, "t3", to(BOB, dummyContent(3))));
    expect(hs.heldCount("beta.example")).toBe(2);
    expect(hs.sync(BOB.userId, BOB.deviceId)).toEqual([]);
    expect(hs.sync(CAROL.userId, CAROL.deviceId)).toHaveLength(1);
    hs.setServerDown("beta.example", false);
    expect(hs.heldCount("beta.example")).toBe(0);
    expect(hs.sync(BOB.userId, BOB.deviceId).map((e) => e.content)).toEqual([{ n: 1 }, { n: 3 }]);
  });
});

function withoutField<T extends object>(object: T, field: string): T {
  return Object.fromEntries(Object.entries(object).filter(([key]) => key !== field)) as T;
}
