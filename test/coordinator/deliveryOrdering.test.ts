import { describe, expect, it } from "vitest";
import { openKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import { DeviceList } from "../../src/devices/deviceList.js";
import { buildNoOlmNotice } from "../../src/events/buildNotice.js";
import type { DeviceId, RoomId, SessionId, UserId } from "../../src/events/matrixIds.js";
import { LibolmBackend } from "../../src/olm/libolmBackend.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import type { KeyWithholdingStore, StoreChanges } from "../../src/store/keyWithholdingStore.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { specHomeserver } from "../support/specHomeserver.js";

/*
 * Found by the crash study (test/crash): a request's removal used to be recorded before its
 * messages' deliveries, and recording a delivery awaits a client hook. A commit by another call
 * during that wait saved "request done" with later messages still undelivered; after a crash
 * there, the second peer got its m.dummy twice. The crash here is simulated exactly: the store is
 * rebuilt from the commits made up to that moment.
 */

const KEY = new Uint8Array(32).fill(7);
const T0 = 1_800_000_000_000;

async function peer(hs: InMemoryHomeserver, user: string, device: string) {
  const olm = await LibolmBackend.create({ userId: user as UserId, deviceId: device as DeviceId });
  if (!olm.ok) throw new Error(olm.detail);
  const keys = olm.value.generateOneTimeKeys(2);
  if (!keys.ok) throw new Error(keys.detail);
  hs.uploadKeys(user, device, {
    device_keys: olm.value.signedDeviceKeys(),
    one_time_keys: keys.value,
  });
  return olm.value;
}

describe("a request leaves the outbox only once every message's delivery is recorded", () => {
  it("a crash while a delivery's hook runs sends neither m.dummy twice", async () => {
    const hs = specHomeserver();
    const bob = await peer(hs, "@bob:example.org", "BOB");
    const carol = await peer(hs, "@carol:example.org", "CAROL");
    const log: StoreChanges[] = [];
    const live = new InMemoryStore();
    const recording: KeyWithholdingStore = {
      loadOlm: () => live.loadOlm(),
      load: () => live.load(),
      commit: async (changes) => {
        log.push(structuredClone(changes));
        await live.commit(changes);
      },
    };
    const replayed = async (commits: number) => {
      const store = new InMemoryStore();
      for (const changes of log.slice(0, commits)) await store.commit(changes);
      return store;
    };
    let release: (() => void) | undefined;
    let entered: (() => void) | undefined;
    const hookEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const open = async (store: KeyWithholdingStore, holdFirstReplyHook: boolean) => {
      const olm = await LibolmBackend.open({
        userId: "@alice:example.org" as UserId,
        deviceId: "ALICE" as DeviceId,
        pickleKey: KEY.slice(),
        store,
      });
      if (!olm.ok) throw new Error(olm.detail);
      const opened = await openKeyWithholding({
        olm: olm.value,
        store,
        clock: () => T0,
        transport: hs.transportFor("@alice:example.org", "ALICE"),
        devices: new DeviceList([bob.ownDevice, carol.ownDevice]),
        hooks: {
          // A client that requests the missing keys when told, and is slow about it.
          onRepliedToNotice: () => {
            if (!holdFirstReplyHook || release !== undefined) return;
            entered?.();
            return new Promise<void>((resolve) => {
              release = resolve;
            });
          },
        },
      });
      if (!opened.ok) throw new Error(opened.detail);
      return opened.value;
    };
    const alice = await open(recording, true);
    await alice.establishSessions([bob.ownDevice, carol.ownDevice]);
    const notice = (from: LibolmBackend) => ({
      type: "m.room_key.withheld",
      sender: from.ownDevice.userId,
      content: buildNoOlmNotice({
        senderKey: from.ownDevice.curve25519,
        fromDevice: from.ownDevice.deviceId,
      }),
    });
    // Two /sync events handled at once: both replies travel in one request.
    const handling = Promise.all([
      alice.handleToDeviceEvent(notice(bob)),
      alice.handleToDeviceEvent(notice(carol)),
    ]);
    await hookEntered;
    // Meanwhile the client asks for a per-session notice: that call commits what is pending.
    await alice.withholdSessions([
      {
        device: bob.ownDevice,
        code: "m.unverified",
        roomId: "!r:example.org" as RoomId,
        sessionId: "s" as SessionId,
      },
    ]);
    const crashAt = log.length;
    release?.();
    await handling;
    const dummiesTo = (id: string) =>
      hs.deliveries.filter((m) => m.eventType === "m.room.encrypted" && m.recipient.deviceId === id)
        .length;
    expect(log.some((c) => c.requestsAdded.some((r) => r.messages.length === 2))).toBe(true);
    expect([dummiesTo("BOB"), dummiesTo("CAROL")]).toEqual([1, 1]);

    const restarted = await open(await replayed(crashAt), false);
    await restarted.flush();
    expect([dummiesTo("BOB"), dummiesTo("CAROL")]).toEqual([1, 1]);
    expect(restarted.pendingRequests).toBe(0);
    for (const device of [bob.ownDevice, carol.ownDevice]) {
      const state = restarted.peerState(device);
      expect(state.ok && state.value.value.reply).toBe("idle");
    }
  });
});
