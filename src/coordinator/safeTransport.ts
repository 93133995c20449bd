import type { JsonValue } from "../events/json.js";
import type { Result } from "../result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
  TransportFailure,
} from "../transport/transport.js";

// A transport is the client's code: a throw or a rejected promise is just another failure.

export async function safeSendToDevice(
  transport: Transport,
  request: SendToDeviceRequest,
): Promise<Result<void, TransportFailure>> {
  try {
    return await transport.sendToDevice(request);
  } catch (error) {
    return { ok: false, reason: "unreachable", detail: `sendToDevice threw: ${describe(error)}` };
  }
}

export async function safeClaimKeys(
  transport: Transport,
  request: KeysClaimRequest,
): Promise<Result<JsonValue, TransportFailure>> {
  try {
    return await transport.claimKeys(request);
  } catch (error) {
    return { ok: false, reason: "unreachable", detail: `claimKeys threw: ${describe(error)}` };
  }
}

const describe = (error: unknown): string =>
  error instanceof Error ? error.message.slice(0, 200) : typeof error;
