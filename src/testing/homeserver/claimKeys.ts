import type { JsonObject, JsonValue } from "../../events/json.js";
import type { Result } from "../../result.js";
import type { TransportFailure } from "../../transport/transport.js";
import { lostResponse } from "./faults.js";
import { type DeviceRef, serverNameOf } from "./ids.js";
import { refuse, type ServerParts } from "./serverParts.js";
import { checkKeysClaim, checkKeysClaimResponse } from "./specChecks.js";
import { isObject, overTheWire } from "./wire.js";

/** POST /keys/claim from `claimer`. `request` is untrusted. */
export function handleClaimKeys(
  parts: ServerParts,
  claimer: DeviceRef,
  request: unknown,
): Result<JsonValue, TransportFailure> {
  parts.observations.countRequest(claimer, "claimKeys");
  const fault = parts.faults.next(claimer, "claimKeys");
  if (fault?.kind === "fail") return { ok: false, ...fault.failure };

  const body = overTheWire(request);
  if (!body.ok) return refuse(parts, "claimKeys", claimer, request, body.problems);
  const problems = checkKeysClaim(parts.schemas, body.value);
  if (problems.length > 0) return refuse(parts, "claimKeys", claimer, request, problems);
  const wanted = isObject(body.value) ? body.value.one_time_keys : undefined;

  // Maps, then Object.fromEntries: an id like "__proto__" stays an ordinary key.
  const claimed = new Map<string, Map<string, JsonObject>>();
  const failures = new Map<string, JsonObject>();
  for (const [userId, devices] of Object.entries(isObject(wanted) ? wanted : {})) {
    const server = serverNameOf(userId);
    // An unreachable server is reported, and none of its keys are consumed.
    if (parts.faults.isDown(server)) {
      failures.set(server, {});
      continue;
    }
    for (const [deviceId, algorithm] of Object.entries(isObject(devices) ? devices : {})) {
      if (typeof algorithm !== "string") continue;
      const target = { userId, deviceId };
      const key = parts.directory.claim(target, algorithm);
      if (key === undefined) continue;
      const forUser = claimed.get(userId) ?? new Map<string, JsonObject>();
      forUser.set(deviceId, Object.fromEntries([[key.keyName, key.key]]));
      claimed.set(userId, forUser);
      parts.observations.claims.push({
        claimer,
        target,
        keyName: key.keyName,
        fallback: key.fallback,
      });
    }
  }
  const response: JsonObject = {
    one_time_keys: Object.fromEntries(
      [...claimed].map(([userId, devices]) => [userId, Object.fromEntries(devices)]),
    ),
    failures: Object.fromEntries(failures),
  };
  const responseProblems = checkKeysClaimResponse(parts.schemas, response);
  if (responseProblems.length > 0) {
    const described = responseProblems.map((problem) => `response ${problem}`);
    return refuse(parts, "claimKeys", claimer, request, described);
  }
  parts.observations.claimsAnswered += 1;
  if (fault?.kind === "loseResponse") return lostResponse();
  // A fresh parse, as the client would get: nothing it holds aliases the server's keys.
  return { ok: true, value: JSON.parse(JSON.stringify(response)) as JsonValue };
}
