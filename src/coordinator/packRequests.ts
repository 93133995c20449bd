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
  const devicesOf = new Map<UserId, Set<DeviceId>>();
  const byUser = new Map<UserId, T[]>();
  const deferred: T[] = [];
  for (const item of items) {
    let devices = devicesOf.get(item.userId);
    if (devices === undefined) {
      devices = new Set();
      devicesOf.set(item.userId, devices);
    }
    if (devices.has(item.deviceId)) {
      deferred.push(item);
      continue;
    }
    devices.add(item.deviceId);
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
  const room = new FirstFit(chunks.length, cap);
  for (const chunk of chunks) {
    const index = room.place(chunk.length);
    const request = requests[index];
    if (request === undefined) requests.push([...chunk]);
    else request.push(...chunk);
  }
  return { requests, deferred };
}

/**
 * First fit in O(log n) per placement: a max tree over every request's remaining room, requests
 * not yet opened counting as empty. The leftmost leaf with room is the first opened request that
 * fits or, when none does, the first unopened one: what a scan of the requests in order finds.
 */
class FirstFit {
  readonly #leaves: number;
  readonly #tree: Int32Array;

  constructor(most: number, cap: number) {
    let leaves = 1;
    while (leaves < Math.max(most, 1)) leaves *= 2;
    this.#leaves = leaves;
    this.#tree = new Int32Array(2 * leaves).fill(cap);
  }

  /** Takes `size` from the first request with that much room; returns its index. */
  place(size: number): number {
    const tree = this.#tree;
    let node = 1;
    while (node < this.#leaves) {
      node = (tree[2 * node] ?? 0) >= size ? 2 * node : 2 * node + 1;
    }
    tree[node] = (tree[node] ?? 0) - size;
    for (let up = node >> 1; up >= 1; up >>= 1) {
      tree[up] = Math.max(tree[2 * up] ?? 0, tree[2 * up + 1] ?? 0);
    }
    return node - this.#leaves;
  }
}
