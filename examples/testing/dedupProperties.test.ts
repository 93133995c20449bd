/*
 * The dedup properties run against a client's own glue (roomKeySharer.ts). In a client
 * project: `import { … } from "matrix-key-withholding/testing"` (fast-check installed).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type DedupRun,
  dedupRunArb,
  dedupViolations,
  formatDedupTrace,
  type GlueFactory,
  runDedupScenario,
} from "../../src/testing/index.js";
import { RoomKeySharer } from "./roomKeySharer.js";

/** Runs the scenario and throws, with the whole trace, if any property is broken. */
async function checkGlue(makeGlue: GlueFactory, run: DedupRun): Promise<void> {
  const trace = await runDedupScenario(run, makeGlue);
  const violations = dedupViolations(trace);
  if (violations.length > 0) {
    throw new Error(`${JSON.stringify(violations, null, 1)}\n${formatDedupTrace(trace)}`);
  }
}

describe("our glue keeps the m.no_olm rules", () => {
  it("one m.no_olm per device per episode, none while failures go on, one per new episode, one new session an hour", async () => {
    // fc.assert reports the seed and shrunk path on failure: replay with { seed, path }.
    await fc.assert(
      fc.asyncProperty(dedupRunArb(), (run) => checkGlue(RoomKeySharer.create, run)),
      { numRuns: 40 },
    );
  });

  it("the properties catch a glue that sends its own m.no_olm on every failed share", async () => {
    // The bug the big SDKs have: one notice per failed share, not one per episode.
    const chatty: GlueFactory = async (env) => {
      const glue = await RoomKeySharer.create(env);
      return {
        shareRoomKey: async (devices) => {
          await glue.shareRoomKey(devices);
          for (const device of devices) {
            if (env.olm.hasSession(device)) continue;
            await env.transport.sendToDevice({
              eventType: "m.room_key.withheld",
              txnId: `chatty.${Math.random()}`,
              body: {
                messages: {
                  [device.userId]: {
                    [device.deviceId]: {
                      algorithm: "m.megolm.v1.aes-sha2",
                      code: "m.no_olm",
                      sender_key: env.olm.ownDevice.curve25519,
                      from_device: env.deviceId,
                    },
                  },
                },
              },
            });
          }
        },
        receiveToDevice: (events) => glue.receiveToDevice(events),
        retry: () => glue.retry(),
        close: () => glue.close(),
      };
    };
    const twoFailedShares: DedupRun = {
      peers: 1,
      steps: [
        { k: "share", peers: [0] },
        { k: "share", peers: [0] },
      ],
    };
    await expect(checkGlue(chatty, twoFailedShares)).rejects.toThrow(/oneNoticePerEpisode/);
    const found = await fc.check(
      fc.asyncProperty(dedupRunArb(), (run) => checkGlue(chatty, run)),
      { numRuns: 40 },
    );
    expect(found.failed).toBe(true);
  });
});
