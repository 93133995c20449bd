import { describeThrown } from "../edges/describeThrown.js";
import type { JsonValue } from "../events/json.js";
import { ok, type Result } from "../result.js";
import type { TransportCallFailure, TransportFailureReason } from "./transport.js";

const REASONS: ReadonlySet<string> = new Set<TransportFailureReason>([
  "unreachable",
  "rejected",
  "rateLimited",
]);

const MAX_DETAIL = 200;

/**
 * Reads what a transport resolved, as strictly as an event: `ok` must be exactly `true` or
 * `false`, and a failure must carry a known reason. Anything else is a `malformedResult`, so a
 * truthy non-boolean can never count as "sent".
 */
export function readTransportResult(
  name: string,
  resolved: unknown,
): Result<JsonValue | undefined, TransportCallFailure> {
  try {
    if (typeof resolved !== "object" || resolved === null) {
      return malformed(name, `resolved ${resolved === null ? "null" : typeof resolved}`);
    }
    const flag: unknown = Reflect.get(resolved, "ok");
    if (flag === true) {
      // The value (a response body) is read later by its own parser; only its presence matters.
      return ok(Reflect.get(resolved, "value") as JsonValue | undefined);
    }
    if (flag !== false) return malformed(name, `"ok" is ${typeof flag}, not a boolean`);
    const reason: unknown = Reflect.get(resolved, "reason");
    const detail: unknown = Reflect.get(resolved, "detail");
    if (typeof reason !== "string" || !REASONS.has(reason)) {
      return malformed(name, "a failure without a known reason");
    }
    const text = typeof detail === "string" ? detail.slice(0, MAX_DETAIL) : "";
    return { ok: false, reason: reason as TransportFailureReason, detail: text };
  } catch (thrown) {
    return malformed(name, `reading the result threw ${describeThrown(thrown, 80)}`);
  }
}

const malformed = (name: string, detail: string): Result<never, TransportCallFailure> => ({
  ok: false,
  reason: "malformedResult",
  detail: `${name} ${detail}`,
});
