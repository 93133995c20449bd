import type { JsonValue } from "../events/json.js";
import type { Result } from "../result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  Transport,
  TransportFailure,
} from "../transport/transport.js";

// A transport is the client's code: a throw or a rejected promise is just another failure.
async function guarded<T>(
  name: string,
  call: () => Promise<Result<T, TransportFailure>>,
): Promise<Result<T, TransportFailure>> {
  try {
    return await call();
  } catch (error) {
    const detail = error instanceof Error ? error.message.slice(0, 200) : typeof error;
    return { ok: false, reason: "unreachable", detail: `${name} threw: ${detail}` };
  }
}

export const safeSendToDevice = (
  transport: Transport,
  request: SendToDeviceRequest,
): Promise<Result<void, TransportFailure>> =>
  guarded("sendToDevice", () => transport.sendToDevice(request));

export const safeClaimKeys = (
  transport: Transport,
  request: KeysClaimRequest,
): Promise<Result<JsonValue, TransportFailure>> =>
  guarded("claimKeys", () => transport.claimKeys(request));
