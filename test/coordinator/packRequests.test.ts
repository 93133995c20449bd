import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { type Addressed, packRequests } from "../../src/coordinator/packRequests.js";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";

interface Msg extends Addressed {
  readonly n: number;
}

const msg = (user: number, device: number, n = 0): Msg => ({
  userId: `@u${user}:example.org` as UserId,
  deviceId: `D${device}` as DeviceId,
  n,
});

/** Users with device counts; some devices get more than one message. */
const messagesArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 40 })), {
    maxLength: 400,
  })
  .map((pairs) => pairs.map(([user, device], n) => msg(user, device, n)));
const capArb = fc.integer({ min: 1, max: 60 });

const deviceOf = (m: Msg) => `${m.userId}|${m.deviceId}`;

describe("packRequests", () => {
  it("600 failing devices across many users fit in 3 requests, no user split", () => {
    const messages: Msg[] = [];
    for (let user = 0; user < 150; user++) {
      for (let device = 0; device < 4; device++) messages.push(msg(user, device));
    }
    const { requests, deferred } = packRequests(messages, 250);
    expect(deferred).toEqual([]);
    expect(requests).toHaveLength(3);
    for (let user = 0; user < 150; user++) {
      const holding = requests.filter((r) => r.some((m) => m.userId === `@u${user}:example.org`));
      expect(holding).toHaveLength(1);
    }
  });

  it("splits a user only when that user alone has more than the cap", () => {
    const big = Array.from({ length: 600 }, (_, d) => msg(1, d));
    const { requests } = packRequests([...big, msg(2, 0)], 250);
    expect(requests.map((r) => r.length).sort((a, b) => a - b)).toEqual([101, 250, 250]);
  });

  it("a device's second message waits for another request", () => {
    const { requests, deferred } = packRequests([msg(1, 1, 1), msg(1, 1, 2), msg(1, 2, 3)], 250);
    expect(requests).toEqual([[msg(1, 1, 1), msg(1, 2, 3)]]);
    expect(deferred).toEqual([msg(1, 1, 2)]);
  });

  test.prop([messagesArb, capArb])("every message is packed once or deferred", (messages, cap) => {
    const { requests, deferred } = packRequests(messages, cap);
    const out = [...requests.flat(), ...deferred].map((m) => m.n).sort((a, b) => a - b);
    expect(out).toEqual(messages.map((m) => m.n));
  });

  test.prop([messagesArb, capArb])(
    "requests respect the cap, one message per device",
    (messages, cap) => {
      for (const request of packRequests(messages, cap).requests) {
        expect(request.length).toBeGreaterThan(0);
        expect(request.length).toBeLessThanOrEqual(cap);
        expect(new Set(request.map(deviceOf)).size).toBe(request.length);
      }
    },
  );

  test.prop([messagesArb, capArb])(
    "a user's devices share one request unless the user has more than the cap",
    (messages, cap) => {
      const { requests } = packRequests(messages, cap);
      const perUser = new Map<string, number>();
      for (const request of requests) {
        for (const user of new Set(request.map((m) => m.userId))) {
          perUser.set(user, (perUser.get(user) ?? 0) + 1);
        }
      }
      for (const [user, count] of perUser) {
        const devices = new Set(messages.filter((m) => m.userId === user).map(deviceOf)).size;
        expect(count).toBe(Math.ceil(devices / cap));
      }
    },
  );

  test.prop([messagesArb, capArb])("no two requests could have been one", (messages, cap) => {
    const sizes = packRequests(messages, cap).requests.map((r) => r.length);
    for (let i = 0; i < sizes.length; i++) {
      for (let j = i + 1; j < sizes.length; j++) {
        expect((sizes[i] ?? 0) + (sizes[j] ?? 0)).toBeGreaterThan(cap);
      }
    }
  });
});
