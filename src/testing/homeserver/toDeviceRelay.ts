import type { JsonObject } from "../../events/json.js";
import { type DeviceRef, deviceKey, serverNameOf } from "./ids.js";
import type { KeyDirectory } from "./keyDirectory.js";
import type { DeliveredMessage, Dispatch, ToDeviceEvent } from "./types.js";
import { deepFreeze } from "./wire.js";

const freshCopy = (content: JsonObject): JsonObject => JSON.parse(JSON.stringify(content));

/**
 * Puts to-device messages into inboxes. Messages for a server that is down wait, in order,
 * until it is back (as federation retries them); messages for devices unknown at delivery
 * time are dropped silently, as servers do.
 */
export class ToDeviceRelay {
  private readonly inboxes = new Map<string, ToDeviceEvent[]>();
  private held: Dispatch[] = [];
  readonly dropped: Dispatch[] = [];

  constructor(
    private readonly directory: KeyDirectory,
    private readonly isServerDown: (serverName: string) => boolean,
    private readonly onDelivered: (message: DeliveredMessage) => void,
  ) {}

  dispatch(message: Dispatch): void {
    const { userId, deviceId } = message.recipient;
    if (this.isServerDown(serverNameOf(userId))) {
      this.held.push(message);
      return;
    }
    // "*" means the devices known when the message reaches the recipient's server.
    const targets = deviceId === "*" ? this.directory.devicesOf(userId) : [deviceId];
    if (targets.length === 0) this.dropped.push(message);
    for (const target of targets) {
      const recipient = { userId, deviceId: target };
      if (!this.directory.isKnown(recipient)) {
        this.dropped.push({ ...message, recipient });
        continue;
      }
      // Each inbox gets its own parse of the JSON, as each /sync response would.
      this.inboxOf(recipient).push({
        type: message.eventType,
        sender: message.sender.userId,
        content: freshCopy(message.content),
      });
      this.onDelivered({ ...message, recipient, content: deepFreeze(freshCopy(message.content)) });
    }
  }

  /** Delivers, in their original order, the messages held for a server that came back. */
  release(serverName: string): void {
    const ready = this.held.filter((m) => serverNameOf(m.recipient.userId) === serverName);
    this.held = this.held.filter((m) => serverNameOf(m.recipient.userId) !== serverName);
    for (const message of ready) this.dispatch(message);
  }

  heldCount(serverName: string): number {
    return this.held.filter((m) => serverNameOf(m.recipient.userId) === serverName).length;
  }

  drain(device: DeviceRef): ToDeviceEvent[] {
    const key = deviceKey(device);
    const events = this.inboxes.get(key) ?? [];
    this.inboxes.delete(key);
    return events;
  }

  private inboxOf(device: DeviceRef): ToDeviceEvent[] {
    const key = deviceKey(device);
    let inbox = this.inboxes.get(key);
    if (inbox === undefined) {
      inbox = [];
      this.inboxes.set(key, inbox);
    }
    return inbox;
  }
}
