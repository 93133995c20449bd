const PROCESS_EVENTS = ["uncaughtException", "unhandledRejection"] as const;

type Listener = (...args: unknown[]) => void;

/** The part of Node's `process` this touches; absent in a browser. */
interface ProcessEvents {
  listeners(event: string): Listener[];
  removeListener(event: string, listener: Listener): unknown;
}

const hostProcess = (): ProcessEvents | undefined => {
  const candidate: unknown = Reflect.get(globalThis, "process");
  return typeof candidate === "object" && candidate !== null && "listeners" in candidate
    ? (candidate as ProcessEvents)
    : undefined;
};

/**
 * Snapshots the global names given and the host's process-wide crash listeners; the function it
 * returns puts them back as they were. libolm writes to both:
 * - importing it sets `window.Olm` in a browser;
 * - `Olm.init(options)` assigns the undeclared global `OLM_OPTIONS`;
 * - its emscripten loader adds `uncaughtException`/`unhandledRejection` listeners that rethrow,
 *   turning a host's survivable unhandled rejection into a crash.
 * A library must change neither its host's globals nor its crash policy.
 */
export function keepHostGlobals(names: readonly string[]): () => void {
  const descriptors = names.map(
    (name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const,
  );
  const before = PROCESS_EVENTS.map((event) => new Set(hostProcess()?.listeners(event) ?? []));
  return () => {
    for (const [name, descriptor] of descriptors) {
      if (descriptor === undefined) Reflect.deleteProperty(globalThis, name);
      else Object.defineProperty(globalThis, name, descriptor);
    }
    const emitter = hostProcess();
    PROCESS_EVENTS.forEach((event, i) => {
      for (const listener of emitter?.listeners(event) ?? []) {
        if (!before[i]?.has(listener)) emitter?.removeListener(event, listener);
      }
    });
  };
}
