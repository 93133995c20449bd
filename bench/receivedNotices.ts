import { DeviceList, type JsonObject } from "../src/index.js";
import { openBenchCoordinator } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { SetOlmBackend } from "./doubles/setOlmBackend.js";
import { noticeEvent } from "./heapPerDevice.js";
import { median, nowNs } from "./median.js";
import { allOutcomes, ownDevice, type Population } from "./population.js";

/*
 * Figure (e): received m.no_olm notices (built with buildNoOlmNotice, wrapped as /sync delivers
 * them) from known devices (in the DeviceList) that have sessions and whose machines know it (an
 * "established" share outcome first, untimed). Each is answered by an m.dummy over the existing
 * session: the bench backend's `encrypt` returns a fixed ciphertext (no libolm; that is (f)),
 * sent as its own request and acknowledged before `handleToDeviceEvent` resolves. The events
 * are built before the clock starts; µs per notice is the median over rounds.
 */

export const RECEIVED_NOTICES = 10_000;

async function round(population: Population, count: number): Promise<number> {
  const devices = population.devices.slice(0, count);
  const olm = new SetOlmBackend(ownDevice);
  for (const device of devices) olm.sessions.add(device.curve25519);
  const transport = new RecordingTransport(false);
  const coordinator = await openBenchCoordinator("none", {
    olm,
    transport,
    devices: new DeviceList(devices),
  });
  await coordinator.kw.reportShareOutcomes(allOutcomes(devices, "established"));
  const events: JsonObject[] = devices.map(noticeEvent);
  let answered = 0;
  const started = nowNs();
  for (const event of events) {
    const result = await coordinator.kw.handleToDeviceEvent(event);
    if (result.kind === "noOlmNotice" && result.reply === "existingSession") answered += 1;
  }
  const ns = nowNs() - started;
  await coordinator.close();
  if (answered !== count || transport.requests !== count) {
    throw new Error(`bench: ${answered} of ${count} notices answered, ${transport.requests} sent`);
  }
  return ns / count / 1000;
}

export async function receivedNoticesFigure(
  population: Population,
  rounds: number,
): Promise<{ readonly usPerNotice: number; readonly notices: number }> {
  const count = Math.min(RECEIVED_NOTICES, population.devices.length);
  await round(population, Math.min(count, 1_000));
  const runs: number[] = [];
  for (let r = 0; r < rounds; r++) runs.push(await round(population, count));
  return { usPerNotice: median(runs), notices: count };
}
