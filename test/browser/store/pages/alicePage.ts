import wasmUrl from "@matrix-org/olm/olm.wasm?url";
import { openKeyWithholding } from "../../../../src/coordinator/keyWithholding.js";
import { DeviceList } from "../../../../src/devices/deviceList.js";
import type { PeerDevice } from "../../../../src/devices/peerDevice.js";
import {
  type DeviceId,
  parseCurve25519PublicKey,
  parseEd25519PublicKey,
  type UserId,
} from "../../../../src/events/matrixIds.js";
import { openIndexedDbStore } from "../../../../src/indexeddb.js";
import { LibolmBackend, loadLibolm } from "../../../../src/libolm.js";
import type { StoredRequest } from "../../../../src/store/keyWithholdingStore.js";
import type { Transport } from "../../../../src/transport/transport.js";
import { ALICE, ALICE_HARNESS, type AliceHarness, BOB, harnessOf } from "../frameHarness.js";

/*
 * Alice's client as a page: libolm, the coordinator and everything durable in IndexedDB; the
 * homeserver double is the test page's (it survives this page being killed and loaded again).
 */
const harness = harnessOf<AliceHarness>(ALICE_HARNESS);

const transport: Transport = {
  sendToDevice: async (request) =>
    JSON.parse(await harness.call("sendToDevice", JSON.stringify(request))),
  claimKeys: async (request) =>
    JSON.parse(await harness.call("claimKeys", JSON.stringify(request))),
};

/** Bob's device from /keys/query (the double's fake keys: no signature to check here). */
const bobDevice = (): PeerDevice => {
  const response = JSON.parse(harness.queryBob()) as {
    device_keys: Record<string, Record<string, { keys: Record<string, string> }>>;
  };
  const keys = response.device_keys[BOB.userId]?.[BOB.deviceId]?.keys ?? {};
  const curve = parseCurve25519PublicKey(keys[`curve25519:${BOB.deviceId}`]);
  const ed = parseEd25519PublicKey(keys[`ed25519:${BOB.deviceId}`]);
  if (!curve.ok || !ed.ok) throw new Error("bob's keys do not parse");
  return {
    userId: BOB.userId as UserId,
    deviceId: BOB.deviceId as DeviceId,
    curve25519: curve.value,
    ed25519: ed.value,
  };
};

const run = async (): Promise<void> => {
  const plan = harness.plan();
  const loaded = await loadLibolm({ wasmUrl });
  if (!loaded.ok) throw new Error(`libolm: ${loaded.detail}`);
  const opened = await openIndexedDbStore({ name: harness.databaseName });
  if (!opened.ok) throw new Error(`store: ${opened.reason}: ${opened.detail}`);
  const store = opened.value;
  const olm = await LibolmBackend.open({
    userId: ALICE.userId as UserId,
    deviceId: ALICE.deviceId as DeviceId,
    pickleKey: Uint8Array.from(harness.pickleKey),
    store,
  });
  if (!olm.ok) throw new Error(`olm: ${olm.detail}`);
  const pendingAtBoot = ((await store.load()).requests as StoredRequest[]).map((r) => r.txnId);
  if (plan === "first") {
    harness.uploadKeys(JSON.stringify({ device_keys: olm.value.signedDeviceKeys() }));
  }
  const bob = bobDevice();
  const kw = await openKeyWithholding({
    olm: olm.value,
    store,
    transport,
    devices: new DeviceList([bob]),
  });
  if (!kw.ok) throw new Error(`coordinator: ${kw.detail}`);
  harness.report(
    "boot",
    JSON.stringify({ identity: olm.value.ownDevice.curve25519, pendingAtBoot }),
  );
  if (plan === "first") {
    // Bob has no one-time keys: the claim fails and an m.no_olm goes out. The test kills this
    // page once the homeserver has it, before the answer comes back.
    await kw.value.establishSessions([bob]);
    throw new Error("the page was meant to be killed before the send was answered");
  }
  const flushed = await kw.value.flush();
  await kw.value.stop();
  const state = kw.value.peerState(bob);
  const left = (await store.load()).requests.length;
  store.close();
  harness.report(
    "done",
    JSON.stringify({ flushed, state: state.ok ? state.value : state.detail, left }),
  );
};

run().catch((error: unknown) => harness.report("error", JSON.stringify(String(error))));
