import { afterEach, describe, expect, it, vi } from "vitest";
import { createKeyWithholding, openKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import type { KeyWithholdingOptions } from "../../src/coordinator/keyWithholdingOptions.js";
import type { KeyWithholdingLogger } from "../../src/coordinator/logger.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import type { KeyWithholdingStore } from "../../src/store/keyWithholdingStore.js";
import { makeWorld, type World } from "./worldFixture.js";

let world: World | undefined;
afterEach(() => {
  world?.close();
  world = undefined;
  vi.restoreAllMocks();
});

type Line = { level: string; message: string; fields: Record<string, unknown> | undefined };

function recordingLogger(): { logger: KeyWithholdingLogger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

/** Alice's coordinator with `extra` options; Bob has no one-time keys, so a share fails. */
async function aliceWith(extra: Partial<KeyWithholdingOptions>) {
  world = await makeWorld({ alice: 0, bob: 0 });
  const w = world;
  const [alice, bob] = [w.device("alice"), w.device("bob")];
  const created = createKeyWithholding({
    olm: alice.olm,
    transport: w.hs.transportFor(alice.device.userId, alice.device.deviceId),
    devices: alice.directory,
    clock: () => w.clock.now,
    ...extra,
  });
  if (!created.ok) throw new Error(created.detail);
  const noticesToBob = () =>
    w.hs.deliveries.filter(
      (m) => m.content.code === "m.no_olm" && m.recipient.userId === bob.device.userId,
    ).length;
  return { kw: created.value, bob, noticesToBob };
}

describe("logger option", () => {
  it("logs a sent notice's request at info, without device ids", async () => {
    const { logger, lines } = recordingLogger();
    const { kw, bob, noticesToBob } = await aliceWith({ logger });
    await kw.establishSessions([bob.device]);
    expect(noticesToBob()).toBe(1);
    const sent = lines.filter((l) => l.message === "to-device request sent");
    expect(sent.map((l) => l.level)).toEqual(["info"]);
    expect(sent[0]?.fields).toMatchObject({ eventType: "m.room_key.withheld", messages: 1 });
    expect(JSON.stringify(lines)).not.toContain(bob.device.deviceId);
    expect(lines.some((l) => l.level === "debug")).toBe(false);
  });

  it("names devices only at debug level", async () => {
    const { logger, lines } = recordingLogger();
    const { kw, bob } = await aliceWith({ logger, logLevel: "debug" });
    await kw.establishSessions([bob.device]);
    const debug = lines.filter((l) => l.level === "debug");
    expect(debug[0]?.fields?.devices).toEqual([`${bob.device.userId}/${bob.device.deviceId}`]);
    const others = lines.filter((l) => l.level !== "debug");
    expect(JSON.stringify(others)).not.toContain(bob.device.deviceId);
  });

  it("filters below logLevel, and logs a failed send at warn", async () => {
    const { logger, lines } = recordingLogger();
    const { kw, bob } = await aliceWith({ logger, logLevel: "warn" });
    const alice = world?.device("alice").device;
    if (alice === undefined) throw new Error("no alice");
    world?.hs.failNext(alice, "sendToDevice", 1);
    await kw.establishSessions([bob.device]);
    expect(lines.filter((l) => l.level === "debug" || l.level === "info")).toEqual([]);
    const requests = lines.filter((l) => l.message.startsWith("to-device request"));
    expect(requests.map((l) => [l.level, l.message])).toEqual([
      ["warn", "to-device request failed; retried later"],
    ]);
  });

  it("logs a failed store commit at error", async () => {
    const { logger, lines } = recordingLogger();
    world = await makeWorld({ alice: 0, bob: 0 });
    const w = world;
    const [alice, bob] = [w.device("alice"), w.device("bob")];
    const inner = new InMemoryStore();
    const store: KeyWithholdingStore = {
      loadOlm: () => inner.loadOlm(),
      load: () => inner.load(),
      commit: async () => {
        throw new Error("disk full");
      },
    };
    const opened = await openKeyWithholding({
      olm: alice.olm,
      transport: w.hs.transportFor(alice.device.userId, alice.device.deviceId),
      devices: alice.directory,
      clock: () => w.clock.now,
      store,
      logger,
    });
    if (!opened.ok) throw new Error(opened.detail);
    await opened.value.establishSessions([bob.device]);
    const errors = lines.filter((l) => l.level === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.message).toMatch(/store commit failed/);
    // Logged once where it happens, not again by the hook-error fallback.
    expect(lines.filter((l) => l.fields?.hook === "store.commit")).toEqual([]);
  });

  it("refuses a logger without the four methods, and an unknown level", async () => {
    world = await makeWorld({ alice: 0 });
    const alice = world.device("alice");
    const base = {
      olm: alice.olm,
      transport: world.hs.transportFor(alice.device.userId, alice.device.deviceId),
      devices: alice.directory,
    };
    const noError = { debug() {}, info() {}, warn() {} } as unknown as KeyWithholdingLogger;
    expect(createKeyWithholding({ ...base, logger: noError })).toMatchObject({
      ok: false,
      path: ["logger"],
    });
    const loud = { ...base, logLevel: "loud" } as unknown as KeyWithholdingOptions;
    expect(createKeyWithholding(loud)).toMatchObject({ ok: false, path: ["logLevel"] });
  });

  it("a logger that throws, rejects or never settles breaks nothing", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const logger: KeyWithholdingLogger = {
        debug: () => new Promise(() => {}),
        info: () => {
          throw new Error("logger down");
        },
        warn: () => Promise.reject(new Error("logger rejected")),
        error: () => new Promise(() => {}),
      };
      const { kw, bob, noticesToBob } = await aliceWith({ logger, logLevel: "debug" });
      const alice = world?.device("alice").device;
      if (alice === undefined) throw new Error("no alice");
      world?.hs.failNext(alice, "sendToDevice", 1);
      await kw.establishSessions([bob.device]);
      await kw.flush();
      expect(noticesToBob()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });
});

describe("hook errors are visible by default", () => {
  const throwingHooks = {
    onPeerStateChange: () => {
      throw new Error("hook bug");
    },
  };

  it("without onHookError, go to the logger's warn with the hook name", async () => {
    const { logger, lines } = recordingLogger();
    const { kw, bob } = await aliceWith({ logger, hooks: throwingHooks });
    await kw.establishSessions([bob.device]);
    const warned = lines.filter((l) => l.level === "warn");
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0]?.fields).toMatchObject({
      hook: "onPeerStateChange",
      error: "Error: hook bug",
    });
  });

  it("without a logger either, go to console.warn once per hook name, with a hint", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { kw, bob } = await aliceWith({ hooks: throwingHooks });
    await kw.establishSessions([bob.device]);
    await kw.reportShareOutcomes([{ device: bob.device, outcome: "established" }]);
    await kw.reportShareOutcomes([{ device: bob.device, outcome: "failed" }]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/onPeerStateChange failed.*onHookError/);
  });

  it("go only to onHookError when it is given", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { logger, lines } = recordingLogger();
    const seen: string[] = [];
    const { kw, bob } = await aliceWith({
      logger,
      hooks: { ...throwingHooks, onHookError: (_error, hook) => seen.push(hook) },
    });
    await kw.establishSessions([bob.device]);
    expect(seen).toContain("onPeerStateChange");
    expect(lines.filter((l) => l.level === "warn")).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });
});
