import {
  buildNoOlmNotice,
  DeviceList,
  type JsonObject,
  type KeyWithholding,
  type PeerDevice,
  peerKeyOf,
} from "../src/index.js";
import { openBenchCoordinator } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { SetOlmBackend } from "./doubles/setOlmBackend.js";
import { collector, settledHeapUsed } from "./gc.js";
import { allOutcomes, ownDevice, type Population, shareOutcomes } from "./population.js";

/*
 * Figure (c): the library's heap per tracked device at steady state, beyond the device's key.
 *
 * Method. The devices (and everything else the client owns: the bench Olm backend with its
 * Set of sessions, the device list, the transport double, which keeps no bodies here) are built
 * first and stay alive throughout. With them alive and no coordinator yet, heapUsed plus
 * arrayBuffers (typed-array bytes live outside the V8 heap) is read
 * after six full GCs (`before`). Then a coordinator is created, driven into the state measured,
 * and every input the bench made for it (the outcome arrays, the reports, the notices) is
 * released; the same sum is read again the same way (`after`). The library's share is
 * (after − before) / devices, minus each device's key string, which any implementation must
 * keep: `peerKeyOf(device)`, counted as length × 1 byte (one-byte string) + 16 bytes of V8
 * string header. (`keyStringBytesMeasured` measures an array of those strings the same way, as
 * a check on that estimate; it is larger by V8's 8-byte alignment.) The coordinator's own
 * fixed cost is spread over the devices, so small populations show more per device.
 *
 * States: afterShare = the (a) outcome (10 % failed, notices sent and acknowledged) — this is
 * `heap_bytes_per_device`; idle = every device established; afterEpisode = every device failed
 * (notice sent), then established; afterReply = every device established, then an m.no_olm
 * from each answered by an m.dummy (bench backend: no real Olm, see doubles/setOlmBackend.ts).
 */

export type HeapState = "afterShare" | "idle" | "afterEpisode" | "afterReply";

export interface HeapFigure {
  readonly state: HeapState;
  readonly bytesPerDevice: number;
  readonly rawBytesPerDevice: number;
  readonly keyBytesPerDevice: number;
}

export const keyStringBytes = (devices: readonly PeerDevice[]): number =>
  devices.reduce((sum, device) => sum + peerKeyOf(device).length + 16, 0);

/** The same strings, measured: an array of fresh exact copies, minus the array's 8 B per slot. */
export async function keyStringBytesMeasured(devices: readonly PeerDevice[]): Promise<number> {
  const collect = collector();
  const before = await settledHeapUsed(collect);
  // Parsed copies, as the library keeps them (a joined string can carry spare capacity).
  alive.held = devices.map((device) => JSON.parse(JSON.stringify(peerKeyOf(device))) as string);
  const after = await settledHeapUsed(collect);
  alive.held = [];
  return (after - before - 8 * devices.length) / devices.length;
}

/** What the client owns, held across both readings (a local could die early in optimized code). */
const alive: { held: readonly unknown[] } = { held: [] };

export async function heapPerDevice(population: Population, state: HeapState): Promise<HeapFigure> {
  const collect = collector();
  const { devices } = population;
  const olm = new SetOlmBackend(ownDevice);
  const transport = new RecordingTransport(false);
  const directory = state === "afterReply" ? new DeviceList(devices) : new DeviceList();
  if (state === "afterShare") {
    devices.forEach((device, i) => {
      if (population.failing[i] !== 1) olm.sessions.add(device.curve25519);
    });
  } else for (const device of devices) olm.sessions.add(device.curve25519);

  alive.held = [olm, transport, directory, devices];
  const before = await settledHeapUsed(collect);
  const coordinator = await openBenchCoordinator("none", { olm, transport, devices: directory });
  await drive(coordinator.kw, population, state);
  const after = await settledHeapUsed(collect);
  await coordinator.close();
  alive.held = [];

  const keyBytes = keyStringBytes(devices);
  const raw = (after - before) / devices.length;
  return {
    state,
    bytesPerDevice: (after - before - keyBytes) / devices.length,
    rawBytesPerDevice: raw,
    keyBytesPerDevice: keyBytes / devices.length,
  };
}

/** Drives the coordinator into the state; what it builds here is garbage once this returns. */
async function drive(kw: KeyWithholding, population: Population, state: HeapState): Promise<void> {
  const { devices } = population;
  if (state === "afterShare") {
    await kw.reportShareOutcomes(shareOutcomes(population));
    return;
  }
  if (state === "afterEpisode") await kw.reportShareOutcomes(allOutcomes(devices, "failed"));
  await kw.reportShareOutcomes(allOutcomes(devices, "established"));
  if (state !== "afterReply") return;
  for (const device of devices) {
    const result = await kw.handleToDeviceEvent(noticeEvent(device));
    if (result.kind !== "noOlmNotice" || result.reply !== "existingSession") {
      throw new Error(`bench: a notice was answered ${JSON.stringify(result).slice(0, 200)}`);
    }
  }
}

/** An m.no_olm from `device`, as /sync delivers it (the way the tests wrap buildNoOlmNotice). */
export function noticeEvent(device: PeerDevice): JsonObject {
  return {
    type: "m.room_key.withheld",
    sender: device.userId,
    content: buildNoOlmNotice({
      senderKey: device.curve25519,
      fromDevice: device.deviceId,
    }) as unknown as JsonObject,
  };
}
