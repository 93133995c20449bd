import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Collect = () => void;

/**
 * `global.gc`, from `--expose-gc` (npm run bench) or, when the process was started without it
 * (vitest), from V8 flags set at run time: a fresh context then sees `gc`.
 */
export function collector(): Collect {
  const exposed: unknown = Reflect.get(globalThis, "gc");
  if (typeof exposed === "function") return () => void exposed();
  setFlagsFromString("--expose-gc");
  const fromContext: unknown = runInNewContext("gc");
  if (typeof fromContext !== "function") throw new Error("no gc(): run node with --expose-gc");
  return () => void fromContext();
}

/**
 * The JS heap in use plus ArrayBuffer backing stores (typed arrays keep their bytes outside the
 * V8 heap, and the library's packed per-device state lives in typed arrays), after several full
 * collections (weak callbacks and finalizers get their turn).
 */
export async function settledHeapUsed(collect: Collect): Promise<number> {
  for (let i = 0; i < 6; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
