import { heapPerDevice } from "./heapPerDevice.js";
import { makePopulation } from "./population.js";
import { shareOutcomeFigure } from "./shareOutcome.js";

/*
 * `--growth`: figures (a) (no store) and (c) (after the (a) outcome) at 1k, 10k, 100k and 1M
 * devices, as a table for docs/performance.md. 1M runs one round (it needs a large heap:
 * npm run bench sets --max-old-space-size).
 */

export const GROWTH_SIZES = [1_000, 10_000, 100_000, 1_000_000] as const;

export interface GrowthRow {
  readonly devices: number;
  readonly rounds: number;
  readonly nsPerOutcome: number;
  readonly heapBytesPerDevice: number;
}

export async function growthTable(
  rounds: number,
  log: (line: string) => void,
  sizes: readonly number[] = GROWTH_SIZES,
): Promise<GrowthRow[]> {
  const rows: GrowthRow[] = [];
  const warmUp = makePopulation(1_000, 9);
  log("growth: devices | rounds | ns per outcome (a, no store) | heap B per device (c, after a)");
  for (const devices of sizes) {
    const population = makePopulation(devices);
    const used = devices >= 1_000_000 ? 1 : rounds;
    const share = await shareOutcomeFigure(population, warmUp, "none", used);
    const heap = await heapPerDevice(population, "afterShare");
    const row = {
      devices,
      rounds: used,
      nsPerOutcome: share.nsPerOutcome,
      heapBytesPerDevice: heap.bytesPerDevice,
    };
    rows.push(row);
    log(
      `growth: ${String(devices).padStart(9)} | ${used} | ${row.nsPerOutcome.toFixed(0).padStart(8)} | ${row.heapBytesPerDevice.toFixed(0).padStart(6)}`,
    );
  }
  return rows;
}
