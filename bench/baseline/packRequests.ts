/*
 * The baseline's packer, written from the library's documented rule: at most `cap` messages
 * per request, one message per device per request, all of a user's devices in one request
 * unless that user alone has more than `cap`; users' chunks placed largest first into the first
 * request with room (first-fit decreasing).
 */

export interface Addressed {
  readonly userId: string;
  readonly deviceId: string;
}

export function packByUser<T extends Addressed>(items: Iterable<T>, cap: number): T[][] {
  const byUser = new Map<string, T[]>();
  for (const item of items) {
    const group = byUser.get(item.userId);
    if (group === undefined) byUser.set(item.userId, [item]);
    else group.push(item);
  }
  const chunks: T[][] = [];
  for (const group of byUser.values()) {
    if (group.length <= cap) chunks.push(group);
    else
      for (let start = 0; start < group.length; start += cap)
        chunks.push(group.slice(start, start + cap));
  }
  chunks.sort((a, b) => b.length - a.length);
  const requests: T[][] = [];
  const room: number[] = [];
  for (const chunk of chunks) {
    let placed = false;
    for (let r = 0; r < requests.length; r++) {
      if ((room[r] ?? 0) >= chunk.length) {
        const request = requests[r];
        if (request === undefined) continue;
        for (const item of chunk) request.push(item);
        room[r] = (room[r] ?? 0) - chunk.length;
        placed = true;
        break;
      }
    }
    if (!placed) {
      requests.push([...chunk]);
      room.push(cap - chunk.length);
    }
  }
  return requests;
}
