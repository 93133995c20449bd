import { settleWithin } from "../edges/settleWithin.js";
import type { JsonValue } from "../events/json.js";
import { ok, type Result } from "../result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
  TransportCallFailure,
} from "../transport/transport.js";
import { readTransportResult } from "../transport/transportResult.js";

// A transport is the client's code: a throw, a rejection, garbage or a hang is just a failure.
async function guarded(
  name: "sendToDevice" | "claimKeys",
  timeoutMs: number,
  call: () => unknown,
): Promise<Result<JsonValue | undefined, TransportCallFailure>> {
  const settled = await settleWithin(name, timeoutMs, call);
  if (!settled.settled) return { ok: false, reason: settled.fault, detail: settled.detail };
  return readTransportResult(name, settled.value);
}

export async function safeSendToDevice(
  transport: Transport,
  request: SendToDeviceRequest,
  timeoutMs: number,
): Promise<Result<void, TransportCallFailure>> {
  const result = await guarded("sendToDevice", timeoutMs, () => transport.sendToDevice(request));
  return result.ok ? ok(undefined) : result;
}

export const safeClaimKeys = (
  transport: Transport,
  request: KeysClaimRequest,
  timeoutMs: number,
): Promise<Result<JsonValue | undefined, TransportCallFailure>> =>
  guarded("claimKeys", timeoutMs, () => transport.claimKeys(request));
