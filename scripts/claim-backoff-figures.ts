/*
 * R5 in numbers: a room of 10,000 devices, 1,000 of them out of one-time keys and 500 on a
 * homeserver that is down, shared to ten times a minute apart. Prints how many devices each
 * share's /keys/claim named, then one line:
 *
 *   claim-backoff: devices=10000 out_of_keys=1000 dead_server=500 claimed_per_share=<n,…> total=<n>
 *
 * Real libolm accounts for every device (their keys are published to the homeserver double and
 * verified when claimed); the homeserver double answers /keys/claim as the spec says, listing the
 * dead server under `failures`. Run: npx tsx scripts/claim-backoff-figures.ts [--devices N]
 */
import { createKeyWithholding } from "../src/coordinator/keyWithholding.js";
import { DeviceList } from "../src/devices/deviceList.js";
import type { PeerDevice } from "../src/devices/peerDevice.js";
import type { DeviceId, UserId } from "../src/events/matrixIds.js";
import { LibolmBackend } from "../src/olm/libolmBackend.js";
import type { Transport } from "../src/transport/transport.js";
import { specHomeserver } from "../test/support/specHomeserver.js";

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const DEVICES = arg("devices", 10_000);
const OUT_OF_KEYS = DEVICES / 10;
const DEAD = DEVICES / 20;
const DEVICES_PER_USER = 5;
const SHARES = 10;
const MINUTE = 60_000;

const hs = specHomeserver();
const clock = { now: Date.UTC(2026, 11, 3, 9) };

async function publish(userId: string, deviceId: string, oneTimeKeys: number) {
  const ids = { userId: userId as UserId, deviceId: deviceId as DeviceId };
  const olm = await LibolmBackend.create(ids);
  if (!olm.ok) throw new Error(olm.detail);
  const keys = olm.value.generateOneTimeKeys(oneTimeKeys);
  if (!keys.ok) throw new Error(keys.detail);
  const uploaded = hs.uploadKeys(userId, deviceId, {
    device_keys: olm.value.signedDeviceKeys(),
    ...(oneTimeKeys > 0 ? { one_time_keys: keys.value } : {}),
  });
  if (!uploaded.ok) throw new Error(uploaded.problems.join("; "));
  const device = olm.value.ownDevice;
  olm.value.dispose();
  return device;
}

const started = performance.now();
const room: PeerDevice[] = [];
for (let i = 0; i < DEVICES; i++) {
  const dead = i >= DEVICES - DEAD;
  const server = dead ? "dead.example" : "example.org";
  const userId = `@u${Math.floor(i / DEVICES_PER_USER)}:${server}`;
  // The first OUT_OF_KEYS devices have no one-time key left; the rest have plenty.
  room.push(await publish(userId, `D${i}`, i < OUT_OF_KEYS ? 0 : 2));
}
hs.setServerDown("dead.example", true);
const alice = await LibolmBackend.create({
  userId: "@alice:example.org" as UserId,
  deviceId: "ALICE" as DeviceId,
});
if (!alice.ok) throw new Error(alice.detail);
const inner = hs.transportFor("@alice:example.org", "ALICE");
let claimedThisShare = 0;
const counting: Transport = {
  sendToDevice: (request) => inner.sendToDevice(request),
  claimKeys: (request) => {
    for (const devices of Object.values(request.one_time_keys)) {
      claimedThisShare += Object.keys(devices).length;
    }
    return inner.claimKeys(request);
  },
};
const created = createKeyWithholding({
  olm: alice.value,
  transport: counting,
  devices: new DeviceList(room),
  clock: () => clock.now,
});
if (!created.ok) throw new Error(created.detail);
const kw = created.value;
console.log(`set up ${DEVICES} devices in ${Math.round(performance.now() - started)} ms`);

const perShare: number[] = [];
for (let share = 0; share < SHARES; share++) {
  claimedThisShare = 0;
  const outcomes = await kw.establishSessions(room);
  const count = (kind: string) => outcomes.filter((o) => o.outcome === kind).length;
  perShare.push(claimedThisShare);
  console.log(
    `share ${share + 1} at +${share} min: claimed ${claimedThisShare}; ` +
      `existing ${count("existing")}, established ${count("established")}, ` +
      `failed ${count("failed")}, backingOff ${count("backingOff")}`,
  );
  clock.now += MINUTE;
}
const withheld = hs.deliveries.filter((d) => d.eventType === "m.room_key.withheld").length;
console.log(
  `m.no_olm delivered: ${withheld} (one per failing device reachable through its server)`,
);
console.log(
  `claim-backoff: devices=${DEVICES} out_of_keys=${OUT_OF_KEYS} dead_server=${DEAD} ` +
    `claimed_per_share=${perShare.join(",")} total=${perShare.reduce((a, b) => a + b, 0)}`,
);
alice.value.dispose();
