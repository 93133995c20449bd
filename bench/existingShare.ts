import { openBenchCoordinator } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { SetOlmBackend } from "./doubles/setOlmBackend.js";
import { median, nowNs } from "./median.js";
import { ownDevice, type Population } from "./population.js";

/*
 * Figure (d): a repeat share to devices that all have sessions. Per round, a fresh coordinator
 * over a backend holding a session with every device; a first `establishSessions(devices)`
 * (untimed) brings the machines in step; the second call is timed. The bare figure is a loop
 * calling the same backend's `hasSession(device)` for each device. existing_share_ratio =
 * library / bare.
 */

export interface ExistingShareFigure {
  readonly libraryNsPerDevice: number;
  readonly bareNsPerDevice: number;
  readonly ratio: number;
}

async function libraryRound(population: Population, olm: SetOlmBackend): Promise<number> {
  const transport = new RecordingTransport(false);
  const coordinator = await openBenchCoordinator("none", { olm, transport });
  const { devices } = population;
  const first = await coordinator.kw.establishSessions(devices);
  if (first.some((o) => o.outcome !== "existing"))
    throw new Error("bench: a device had no session");
  const started = nowNs();
  const second = await coordinator.kw.establishSessions(devices);
  const ns = nowNs() - started;
  if (second.length !== devices.length || second.some((o) => o.outcome !== "existing")) {
    throw new Error("bench: the repeat share did not find every session");
  }
  if (transport.requests !== 0 || transport.claims !== 0)
    throw new Error("bench: a repeat share sent");
  await coordinator.close();
  return ns / devices.length;
}

function bareRound(population: Population, olm: SetOlmBackend): number {
  const { devices } = population;
  let found = 0;
  const started = nowNs();
  for (const device of devices) if (olm.hasSession(device)) found += 1;
  const ns = nowNs() - started;
  if (found !== devices.length) throw new Error("bench: the bare loop missed a session");
  return ns / devices.length;
}

export async function existingShareFigure(
  population: Population,
  warmUp: Population,
  rounds: number,
): Promise<ExistingShareFigure> {
  const withSessions = (p: Population): SetOlmBackend => {
    const olm = new SetOlmBackend(ownDevice);
    for (const device of p.devices) olm.sessions.add(device.curve25519);
    return olm;
  };
  const olm = withSessions(population);
  await libraryRound(warmUp, withSessions(warmUp));
  bareRound(warmUp, withSessions(warmUp));
  const library: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < rounds; round++) {
    library.push(await libraryRound(population, olm));
    bare.push(bareRound(population, olm));
  }
  const libraryNsPerDevice = median(library);
  const bareNsPerDevice = median(bare);
  return { libraryNsPerDevice, bareNsPerDevice, ratio: libraryNsPerDevice / bareNsPerDevice };
}
