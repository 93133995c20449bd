import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { fakeUpload } from "../../src/testing/homeserver/fakeKeys.js";
import type { DeviceRef, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { specHomeserver } from "../support/specHomeserver.js";
import { ALICE, ALICE2, BOB, sendRequest, to } from "./harness.js";

const SENDERS = [ALICE, ALICE2, BOB] as const;
const RECIPIENT = { userId: "@dave:delta.example", deviceId: "DAVE1" } as const;

/** One logical message; repeats of the same (sender, txnId) are the same message. */
const sendArb = fc.record({
  sender: fc.integer({ min: 0, max: SENDERS.length - 1 }),
  txnId: fc.constantFrom("t1", "t2", "t3", "t4"),
});
const faultArb = fc.record({
  failures: fc.nat({ max: 3 }),
  lostResponses: fc.nat({ max: 3 }),
  reason: fc.constantFrom("unreachable", "rejected", "rateLimited" as const),
});

const senderAt = (index: number): DeviceRef => SENDERS[index] ?? ALICE;

/** Sends until acknowledged, reusing the txnId, as a client retries after any failure. */
async function sendUntilAcknowledged(
  hs: InMemoryHomeserver,
  sender: DeviceRef,
  txnId: string,
): Promise<number> {
  const transport = hs.transportFor(sender.userId, sender.deviceId);
  const request = sendRequest(
    "org.example.test",
    txnId,
    to(RECIPIENT, { from: sender.deviceId, txnId }),
  );
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    if ((await transport.sendToDevice(request)).ok) return attempt;
  }
  throw new Error("never acknowledged");
}

describe("txnId idempotency under interleaving and faults", () => {
  test.prop([
    fc.scheduler(),
    fc.array(sendArb, { minLength: 1, maxLength: 12 }),
    fc.array(faultArb, { minLength: SENDERS.length, maxLength: SENDERS.length }),
  ])("each (sender, txnId) is delivered exactly once", async (s, sends, faults) => {
    // Every call waits for the scheduler, so calls and retries interleave in any order.
    const hs = specHomeserver({ beforeRequest: () => s.schedule(Promise.resolve()) });
    for (const device of [...SENDERS, RECIPIENT]) {
      hs.uploadKeys(device.userId, device.deviceId, fakeUpload(device.userId, device.deviceId));
    }
    for (const [index, fault] of faults.entries()) {
      hs.failNext(senderAt(index), "sendToDevice", fault.failures, fault.reason);
      hs.loseNextResponses(senderAt(index), "sendToDevice", fault.lostResponses);
    }

    await s.waitFor(
      Promise.all(
        sends.map(({ sender, txnId }) => sendUntilAcknowledged(hs, senderAt(sender), txnId)),
      ),
    );

    const sent = new Set(
      sends.map(({ sender, txnId }) => JSON.stringify([senderAt(sender), txnId])),
    );
    const delivered = hs.deliveries.map((d) => JSON.stringify([d.sender, d.txnId]));
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(hs.sync(RECIPIENT.userId, RECIPIENT.deviceId)).toHaveLength(sent.size);
    expect(hs.violations).toEqual([]);
  });
});
