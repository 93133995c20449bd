import {
  type JsonValue,
  type KeysClaimRequest,
  ok,
  type Result,
  type SendToDeviceRequest,
  type Transport,
  type TransportFailure,
} from "../../src/index.js";

/*
 * The network edge of every figure: a homeserver double that accepts every request at once.
 * It counts requests and, unless told not to (the heap figure), keeps their bodies so the
 * baseline check can compare them. /keys/claim answers whatever `claimAnswer` gives (default:
 * no keys).
 */
export class RecordingTransport implements Transport {
  readonly sent: SendToDeviceRequest[] = [];
  requests = 0;
  messages = 0;
  claims = 0;

  constructor(
    private readonly keepBodies: boolean,
    private readonly claimAnswer: (request: KeysClaimRequest) => JsonValue = () => ({
      one_time_keys: {},
      failures: {},
    }),
  ) {}

  async sendToDevice(request: SendToDeviceRequest): Promise<Result<void, TransportFailure>> {
    this.requests += 1;
    if (this.keepBodies) this.sent.push(request);
    return ok(undefined);
  }

  async claimKeys(request: KeysClaimRequest): Promise<Result<JsonValue, TransportFailure>> {
    this.claims += 1;
    return ok(this.claimAnswer(request));
  }
}
