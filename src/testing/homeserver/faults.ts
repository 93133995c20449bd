import type { TransportFailure, TransportFailureReason } from "../../transport/transport.js";
import { type DeviceRef, deviceKey, serverNameOf } from "./ids.js";
import type { TransportEndpoint } from "./types.js";

/**
 * What happens to a call instead of (or after) normal processing:
 * - fail: the server never acts on it; the client sees the failure;
 * - loseResponse: the server acts on it fully, but the client sees "unreachable".
 */
export type Fault =
  | { readonly kind: "fail"; readonly failure: TransportFailure }
  | { readonly kind: "loseResponse" };

const LOST: TransportFailure = {
  reason: "unreachable",
  detail: "the request was processed but its response was lost",
};
export const lostResponse = (): { readonly ok: false } & TransportFailure => ({
  ok: false,
  ...LOST,
});

/** Injected faults, queued per (device, endpoint) in the order a test scheduled them. */
export class FaultPlan {
  private readonly queues = new Map<string, Fault[]>();
  private readonly downServers = new Set<string>();

  add(device: DeviceRef, endpoint: TransportEndpoint, fault: Fault, count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`fault count must be a non-negative integer, got ${count}`);
    }
    const key = queueKey(device, endpoint);
    const queue = this.queues.get(key) ?? [];
    for (let i = 0; i < count; i += 1) queue.push(fault);
    this.queues.set(key, queue);
  }

  static failure(reason: TransportFailureReason): Fault {
    return { kind: "fail", failure: { reason, detail: `injected ${reason} failure` } };
  }

  static readonly loseResponse: Fault = { kind: "loseResponse" };

  /**
   * The fault for this call, if any. A device whose own server is down cannot reach it at
   * all; that takes precedence and leaves the queued faults for later calls.
   */
  next(device: DeviceRef, endpoint: TransportEndpoint): Fault | undefined {
    const server = serverNameOf(device.userId);
    if (this.downServers.has(server)) {
      return { kind: "fail", failure: { reason: "unreachable", detail: `${server} is down` } };
    }
    return this.queues.get(queueKey(device, endpoint))?.shift();
  }

  pending(device: DeviceRef, endpoint: TransportEndpoint): number {
    return this.queues.get(queueKey(device, endpoint))?.length ?? 0;
  }

  setDown(serverName: string, down: boolean): void {
    if (down) this.downServers.add(serverName);
    else this.downServers.delete(serverName);
  }

  isDown(serverName: string): boolean {
    return this.downServers.has(serverName);
  }
}

const queueKey = (device: DeviceRef, endpoint: TransportEndpoint): string =>
  `${endpoint} ${deviceKey(device)}`;
