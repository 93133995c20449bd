import { type DeviceRef, deviceKey } from "./ids.js";
import type {
  ClaimRecord,
  DeliveredMessage,
  DeliveryListener,
  Endpoint,
  Violation,
} from "./types.js";

/** What tests and the demo can watch: violations, deliveries, claims, request counts. */
export class Observations {
  readonly violations: Violation[] = [];
  readonly deliveries: DeliveredMessage[] = [];
  readonly claims: ClaimRecord[] = [];
  claimsAnswered = 0;
  private readonly requestCounts = new Map<string, number>();
  private readonly listeners = new Set<DeliveryListener>();

  countRequest(device: DeviceRef, endpoint: Endpoint): void {
    const key = countKey(device, endpoint);
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
  }

  requestCount(device: DeviceRef, endpoint: Endpoint): number {
    return this.requestCounts.get(countKey(device, endpoint)) ?? 0;
  }

  violation(violation: Violation): void {
    this.violations.push(violation);
  }

  delivered(message: DeliveredMessage): void {
    this.deliveries.push(message);
    for (const listener of this.listeners) {
      // A throwing listener is a bug in the test, not a transport failure: record it instead
      // of letting it escape into the library's call.
      try {
        listener(message);
      } catch (error) {
        this.violation({
          endpoint: "onDeliver",
          device: message.recipient,
          problems: [`a delivery listener threw ${describeError(error)}`],
          request: message,
        });
      }
    }
  }

  subscribe(listener: DeliveryListener): () => void {
    // Wrapped so the same function can be subscribed twice and unsubscribed independently.
    const entry: DeliveryListener = (message) => listener(message);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }
}

const countKey = (device: DeviceRef, endpoint: Endpoint): string =>
  `${endpoint} ${deviceKey(device)}`;

/** Never throws, whatever was thrown. */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return "an unprintable value";
  }
}
