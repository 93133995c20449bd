import type { TransportFailure } from "../../transport/transport.js";
import type { FaultPlan } from "./faults.js";
import type { DeviceRef } from "./ids.js";
import type { KeyDirectory } from "./keyDirectory.js";
import type { Observations } from "./observations.js";
import type { SchemaCheck } from "./schemaCheck.js";
import type { ToDeviceRelay } from "./toDeviceRelay.js";
import type { TransactionLog } from "./transactions.js";
import type { Endpoint } from "./types.js";

/** The server's state, shared by the endpoint handlers. */
export interface ServerParts {
  readonly directory: KeyDirectory;
  readonly relay: ToDeviceRelay;
  readonly transactions: TransactionLog;
  readonly faults: FaultPlan;
  readonly observations: Observations;
  readonly schemas: SchemaCheck;
}

export type Refusal = { readonly ok: false } & TransportFailure;

/** Records a spec violation and answers as a server answers a bad request (400). */
export function refuse(
  parts: ServerParts,
  endpoint: Endpoint,
  device: DeviceRef,
  request: unknown,
  problems: readonly string[],
): Refusal {
  parts.observations.violation({ endpoint, device, problems, request });
  return { ok: false, reason: "rejected", detail: problems.join("; ") };
}
