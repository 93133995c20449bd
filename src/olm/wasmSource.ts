import { describeThrown } from "../edges/describeThrown.js";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";

/** Where libolm's `olm.wasm` comes from. Without either, the place libolm itself looks. */
export interface LibolmLoadOptions {
  /**
   * The URL `olm.wasm` is served at, fetched with the global `fetch` (relative URLs resolve
   * against `location`). Default in a browser or worker: `olm.wasm` next to the page, where
   * libolm looks. In Node libolm reads the file beside its own `olm.js` unless this is given.
   */
  readonly wasmUrl?: string | URL;
  /** The module's bytes, for a host that reads or embeds them itself. Wins over `wasmUrl`. */
  readonly wasmBinary?: Uint8Array;
}

type Failed = { readonly ok: false } & AccountFailure;

/**
 * `olm.wasm`'s bytes, checked to be a WebAssembly module, or undefined where libolm's own Node
 * lookup is used. Done before libolm's `init` because libolm keeps a failed init for good:
 * a wrong location must fail here, where a later call can still try another.
 */
export async function wasmBytes(
  options: LibolmLoadOptions,
): Promise<Result<Uint8Array | undefined, AccountFailure>> {
  if (options.wasmBinary !== undefined) return checked(options.wasmBinary, "wasmBinary");
  if (options.wasmUrl === undefined && takesNodeBranch()) return ok(undefined);
  const url = resolveUrl(options.wasmUrl ?? "olm.wasm");
  if (!url.ok) return url;
  let response: Response;
  try {
    response = await fetch(url.value);
  } catch (error) {
    return unavailable(`Fetching ${url.value}: ${describeThrown(error)}`, error);
  }
  if (!response.ok) return unavailable(`Fetching ${url.value}: HTTP ${response.status}.`);
  try {
    return checked(new Uint8Array(await response.arrayBuffer()), url.value);
  } catch (error) {
    return unavailable(`Reading ${url.value}: ${describeThrown(error)}`, error);
  }
}

/** The same test libolm makes to choose its Node code (fs for the wasm, Node's crypto). */
export function takesNodeBranch(): boolean {
  const host: unknown = Reflect.get(globalThis, "process");
  if (typeof host !== "object" || host === null) return false;
  const versions: unknown = Reflect.get(host, "versions");
  if (typeof versions !== "object" || versions === null) return false;
  return typeof Reflect.get(versions, "node") === "string";
}

export function unavailable(detail: string, thrown?: unknown): Failed & { readonly cause: Error } {
  const cause = new Error(`libolm could not be loaded: ${detail}`, { cause: thrown });
  return { ...accountFailure("olmUnavailable", detail), cause };
}

function resolveUrl(url: string | URL): Result<string, AccountFailure> {
  const location: unknown = Reflect.get(globalThis, "location");
  const base =
    typeof location === "object" && location !== null ? Reflect.get(location, "href") : undefined;
  try {
    return ok(new URL(String(url), typeof base === "string" ? base : undefined).href);
  } catch (error) {
    return unavailable(
      `wasmUrl ${describeThrown(String(url))} does not resolve to a URL here (a relative URL needs a location): ${describeThrown(error)}`,
      error,
    );
  }
}

interface ModuleDescriptor {
  readonly module: string;
  readonly name: string;
  readonly kind: string;
}
interface ExportDescriptor {
  readonly name: string;
  readonly kind: string;
}
/** The WebAssembly calls made here; the library's lib settings have no DOM or wasm types. */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  readonly Module: {
    imports(module: object): ModuleDescriptor[];
    exports(module: object): ExportDescriptor[];
  };
}

/**
 * The shape of libolm 3.2.15's olm.wasm as its glue code expects it: two imported functions and
 * 158 exports, memory as "c". The glue has no check of its own: given another module it throws
 * inside a promise callback, so its init never settles and the host sees an unhandled rejection.
 */
const OLM_WASM_IMPORTS = "a.a:function,a.b:function";
const OLM_WASM_EXPORT_COUNT = 158;

async function checked(
  bytes: Uint8Array,
  what: string,
): Promise<Result<Uint8Array, AccountFailure>> {
  if (!(bytes instanceof Uint8Array)) return unavailable(`${what} is not a Uint8Array.`);
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return unavailable("This runtime has no WebAssembly.");
  let module: object;
  try {
    module = await wasm.compile(bytes);
  } catch (error) {
    return unavailable(
      `${what} is not a WebAssembly module (${bytes.byteLength} bytes): ${describeThrown(error)}`,
      error,
    );
  }
  const imports = wasm.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
  const exports = wasm.Module.exports(module);
  const memory = exports.find((e) => e.name === "c")?.kind;
  if (
    imports.join(",") !== OLM_WASM_IMPORTS ||
    exports.length !== OLM_WASM_EXPORT_COUNT ||
    memory !== "memory"
  ) {
    return unavailable(
      `${what} is a WebAssembly module, but not libolm 3.2.15's olm.wasm (${imports.length} imports, ${exports.length} exports).`,
    );
  }
  return ok(bytes);
}
