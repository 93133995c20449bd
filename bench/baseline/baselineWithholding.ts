import {
  buildNoOlmNotice,
  DEFAULT_MAX_MESSAGES_PER_REQUEST,
  type JsonObject,
  type PeerDevice,
  type SendToDeviceRequest,
  type ToDeviceMessages,
  type Transport,
  WITHHELD_EVENT_TYPE,
} from "../../src/index.js";
import { packByUser } from "./packRequests.js";
import { type OwnIds, readList, readOutcome } from "./readOutcomes.js";

/*
 * Figure (b): the same notice rules, hand-written with plain Maps keyed by one string per
 * device: one m.no_olm per device per failure episode, none while failures continue, a session
 * (an "established" outcome) ends the episode (and drops a notice queued in the same call and
 * not yet sent). Notices are packed into to-device request bodies as the library packs them
 * and sent through the same transport. It shares with the library only the codec's exported
 * pieces: the id parsers (readOutcomes.ts) and `buildNoOlmNotice` (one content object for all
 * notices, as the library does). No store, no retries, no hooks, no state machine.
 */

const ESTABLISHED = 1;
const IN_EPISODE = 2;

interface Queued {
  readonly userId: string;
  readonly deviceId: string;
}

export class BaselineWithholding {
  /** Device key → ESTABLISHED or IN_EPISODE (absent: never seen). */
  readonly #states = new Map<string, number>();
  readonly #own: OwnIds;
  readonly #content: JsonObject;
  #txn = 0;

  constructor(
    own: PeerDevice,
    private readonly transport: Transport,
    private readonly cap: number = DEFAULT_MAX_MESSAGES_PER_REQUEST,
  ) {
    this.#own = { userId: own.userId, deviceId: own.deviceId, curve25519: own.curve25519 };
    this.#content = Object.freeze(
      buildNoOlmNotice({ senderKey: own.curve25519, fromDevice: own.deviceId }),
    ) as JsonObject;
  }

  /** Returns how many entries were refused. */
  async reportShareOutcomes(input: unknown): Promise<number> {
    const list = readList(input);
    if (list === undefined) return 1;
    let refused = 0;
    const queued = new Map<string, Queued>();
    for (const entry of list) {
      const read = readOutcome(entry, this.#own);
      if (read === undefined) {
        refused += 1;
        continue;
      }
      const key = `${read.userId}\n${read.deviceId}\n${read.curve25519}`;
      if (read.failed) {
        if (this.#states.get(key) === IN_EPISODE) continue;
        this.#states.set(key, IN_EPISODE);
        queued.set(key, { userId: read.userId, deviceId: read.deviceId });
      } else {
        this.#states.set(key, ESTABLISHED);
        queued.delete(key);
      }
    }
    for (const request of packByUser(queued.values(), this.cap)) {
      const messages: Record<string, Record<string, JsonObject>> = Object.create(null);
      for (const { userId, deviceId } of request) {
        const forUser = messages[userId] ?? Object.create(null);
        forUser[deviceId] = this.#content;
        messages[userId] = forUser;
      }
      this.#txn += 1;
      const send: SendToDeviceRequest = {
        eventType: WITHHELD_EVENT_TYPE,
        txnId: `baseline.${this.#txn}`,
        body: { messages: messages as ToDeviceMessages },
      };
      const sent = await this.transport.sendToDevice(send);
      if (!sent.ok) throw new Error(`baseline: send failed: ${sent.detail}`);
    }
    return refused;
  }

  get trackedDevices(): number {
    return this.#states.size;
  }
}
