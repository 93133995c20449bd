import type { Result } from "../../result.js";
import type { TransportFailure } from "../../transport/transport.js";
import { lostResponse } from "./faults.js";
import type { DeviceRef } from "./ids.js";
import { refuse, type ServerParts } from "./serverParts.js";
import { checkSendToDevice } from "./specChecks.js";
import { canonicalJson, isObject, overTheWire } from "./wire.js";

/** PUT /sendToDevice/{eventType}/{txnId} from `sender`. `request` is untrusted. */
export function handleSendToDevice(
  parts: ServerParts,
  sender: DeviceRef,
  request: { readonly eventType: unknown; readonly txnId: unknown; readonly body: unknown },
): Result<void, TransportFailure> {
  parts.observations.countRequest(sender, "sendToDevice");
  const fault = parts.faults.next(sender, "sendToDevice");
  if (fault?.kind === "fail") return { ok: false, ...fault.failure };

  const { eventType, txnId } = request;
  if (typeof eventType !== "string" || typeof txnId !== "string") {
    return refuse(parts, "sendToDevice", sender, request, ["eventType and txnId must be strings"]);
  }
  const body = overTheWire(request.body);
  if (!body.ok) return refuse(parts, "sendToDevice", sender, request, body.problems);
  const problems = checkSendToDevice(parts.schemas, eventType, txnId, body.value);
  if (problems.length > 0) return refuse(parts, "sendToDevice", sender, request, problems);

  const outcome = parts.transactions.admit(
    sender,
    txnId,
    canonicalJson({ eventType, body: body.value }),
  );
  if (outcome === "conflict") {
    // A server answers from its transaction cache; the client has silently lost this body.
    parts.observations.violation({
      endpoint: "sendToDevice",
      device: sender,
      problems: [`txnId ${JSON.stringify(txnId)} was reused for a different request`],
      request,
    });
  }
  if (outcome === "new" && isObject(body.value) && isObject(body.value.messages)) {
    for (const [userId, devices] of Object.entries(body.value.messages)) {
      if (!isObject(devices)) continue;
      for (const [deviceId, content] of Object.entries(devices)) {
        if (!isObject(content)) continue;
        parts.relay.dispatch({
          eventType,
          sender,
          recipient: { userId, deviceId },
          txnId,
          content,
        });
      }
    }
  }
  return fault?.kind === "loseResponse" ? lostResponse() : { ok: true, value: undefined };
}
