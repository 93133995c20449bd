import type { DeviceId, UserId } from "../events/matrixIds.js";

export interface Addressed {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
}

export interface Packing<T> {
  /** Each inner array is one to-device request. */
  readonly requests: readonly (readonly T[])[];
  /** Second and later messages to a device: a request holds one message per device. */
  readonly deferred: readonly T[];
}

/**
 * Packs to-device messages into as few requests as it can: at most `cap` messages each, one
 * message per device, and all of a user's devices in one request unless that user alone has
 * more than `cap`. Users are placed largest first into the first request with room for them
 * (first-fit decreasing, within 11/9 of the optimum plus one).
 */
export function packRequests<T extends Addressed>(items: readonly T[], cap: number): Packing<T> {
  const perDevice = new Set<string>();
  const byUser = new Map<UserId, T[]>();
  const deferred: T[] = [];
  for (const item of items) {
    const device = JSON.stringify([item.userId, item.deviceId]);
    if (perDevice.has(device)) {
      deferred.push(item);
      continue;
    }
    perDevice.add(device);
    const group = byUser.get(item.userId);
    if (group === undefined) byUser.set(item.userId, [item]);
    else group.push(item);
  }

  const chunks: T[][] = [];
  for (const group of byUser.values()) {
    for (let start = 0; start < group.length; start += cap) {
      chunks.push(group.slice(start, start + cap));
    }
  }
  chunks.sort((a, b) => b.length - a.length);

  const requests: T[][] = [];
  for (const chunk of chunks) {
    const fit = requests.find((request) => request.length + chunk.length <= cap);
    if (fit === undefined) requests.push([...chunk]);
    else fit.push(...chunk);
  }
  return { requests, deferred };
}
