/** Median of a non-empty list (the lower middle for an even count); NaN for an empty one. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** Runs `round` `rounds` times after one warm-up call, and returns each timed round's result. */
export async function roundsOf<T>(
  rounds: number,
  warmUp: () => Promise<unknown>,
  round: (index: number) => Promise<T>,
): Promise<T[]> {
  await warmUp();
  const results: T[] = [];
  for (let index = 0; index < rounds; index++) results.push(await round(index));
  return results;
}

/** Nanoseconds since an arbitrary origin, as a number (ns resolution, ample range). */
export const nowNs = (): number => Number(process.hrtime.bigint());
