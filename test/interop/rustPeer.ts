import {
  CollectStrategy,
  DecryptionSettings,
  DeviceId,
  DeviceLists,
  EncryptionSettings,
  initAsync,
  MegolmDecryptionError,
  OlmMachine,
  RequestType,
  RoomId,
  type RoomKeyWithheldInfo,
  ToDeviceRequest,
  TrustRequirement,
  UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm";
import type { JsonObject, JsonValue } from "../../src/events/json.js";
import type { InMemoryHomeserver, ToDeviceEvent } from "../../src/testing/homeserver/index.js";
import type { Transport } from "../../src/transport/transport.js";

/*
 * A matrix-rust-sdk device (its crypto crate, compiled to wasm) on the in-memory homeserver
 * double: every request it makes is answered by the double (which checks it against the spec),
 * and its /sync is the double's inbox for it. Nothing of the rust side is mocked.
 *
 * The wasm objects' UserId arguments are consumed when passed in arrays, so each call gets fresh
 * ones.
 */

export type ProcessedEvents = Awaited<ReturnType<OlmMachine["receiveSyncChanges"]>>;

export interface RustPeerOptions {
  readonly hs: InMemoryHomeserver;
  readonly userId: string;
  readonly deviceId: string;
  /** Wraps the transport the peer's /keys/claim and /sendToDevice go through. */
  readonly wrapTransport?: (transport: Transport) => Transport;
  /** Tell rust the server supports fallback keys (it then uploads one). Default false. */
  readonly fallbackKeys?: boolean;
  /** Start with rust's one-time key uploads dropped (see `dropOneTimeKeys`). */
  readonly dropOneTimeKeys?: boolean;
}

let initialised: Promise<void> | undefined;

export class RustPeer {
  /** Every to-device request rust sent: event type and per-device contents. */
  readonly sent: { eventType: string; messages: Record<string, Record<string, JsonObject>> }[] = [];
  readonly withheldSeen: { code: string; sessionId: string; roomId: string }[] = [];
  /** While true, one-time keys rust uploads are dropped (the answer still counts them). */
  dropOneTimeKeys = false;
  fallbackKeys: boolean;
  readonly #transport: Transport;

  private constructor(
    readonly machine: OlmMachine,
    private readonly options: RustPeerOptions,
  ) {
    const raw = options.hs.transportFor(options.userId, options.deviceId);
    this.#transport = options.wrapTransport?.(raw) ?? raw;
    this.fallbackKeys = options.fallbackKeys ?? false;
    this.dropOneTimeKeys = options.dropOneTimeKeys ?? false;
    machine.registerRoomKeysWithheldCallback(async (infos: RoomKeyWithheldInfo[]) => {
      for (const info of infos) {
        this.withheldSeen.push({
          code: info.withheldCode,
          sessionId: info.sessionId,
          roomId: info.roomId.toString(),
        });
      }
    });
  }

  static async create(options: RustPeerOptions): Promise<RustPeer> {
    initialised ??= initAsync();
    await initialised;
    const machine = await OlmMachine.initialize(
      new UserId(options.userId),
      new DeviceId(options.deviceId),
    );
    const peer = new RustPeer(machine, options);
    await peer.processOutgoing();
    return peer;
  }

  get userId(): string {
    return this.options.userId;
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  get curve25519(): string {
    return this.machine.identityKeys.curve25519.toBase64();
  }

  /** Answers every outgoing request through the homeserver double until none are left. */
  async processOutgoing(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const requests = await this.machine.outgoingRequests();
      if (requests.length === 0) return;
      for (const request of requests) {
        const toDevice = request instanceof ToDeviceRequest ? request : undefined;
        const response = await this.#answer(request.type, request.body, toDevice ?? {});
        if (request.id === undefined) continue;
        await this.machine.markRequestAsSent(request.id, request.type, JSON.stringify(response));
      }
    }
    throw new Error("rust keeps producing requests");
  }

  async #answer(
    type: RequestType,
    bodyJson: string,
    request: { readonly event_type?: string; readonly txn_id?: string },
  ): Promise<JsonValue> {
    const body = JSON.parse(bodyJson) as JsonObject;
    const hs = this.options.hs;
    switch (type) {
      case RequestType.KeysUpload: {
        const keys = body.one_time_keys;
        const dropped =
          this.dropOneTimeKeys && typeof keys === "object" && keys !== null
            ? Object.keys(keys).length
            : 0;
        const sent = Object.fromEntries(
          Object.entries(body).filter(([name]) => dropped === 0 || name !== "one_time_keys"),
        );
        const uploaded = hs.uploadKeys(this.userId, this.deviceId, sent);
        if (!uploaded.ok) throw new Error(`rust's upload refused: ${uploaded.problems.join("; ")}`);
        const counts = { ...uploaded.value.one_time_key_counts };
        counts.signed_curve25519 = (counts.signed_curve25519 ?? 0) + dropped;
        return { one_time_key_counts: counts };
      }
      case RequestType.KeysQuery: {
        const users = Object.keys((body.device_keys ?? {}) as JsonObject);
        const answer = hs.queryKeys(users);
        return answer as unknown as JsonValue;
      }
      case RequestType.KeysClaim: {
        const claimed = await this.#transport.claimKeys(body as never);
        if (!claimed.ok) throw new Error(`rust's claim failed: ${claimed.detail}`);
        return claimed.value;
      }
      case RequestType.ToDevice: {
        const eventType = request.event_type ?? "";
        const txnId = request.txn_id ?? "";
        const sent = await this.#transport.sendToDevice({ eventType, txnId, body: body as never });
        if (!sent.ok) throw new Error(`rust's sendToDevice failed: ${sent.detail}`);
        this.sent.push({
          eventType,
          messages: body.messages as Record<string, Record<string, JsonObject>>,
        });
        return {};
      }
      default:
        return {};
    }
  }

  /** Start tracking these users (a /keys/query follows). */
  async track(userIds: readonly string[]): Promise<void> {
    await this.machine.updateTrackedUsers(userIds.map((u) => new UserId(u)));
    await this.processOutgoing();
  }

  /** One /sync: the peer's to-device inbox, with the server's real one-time key count. */
  async sync(extra: readonly ToDeviceEvent[] = []): Promise<ProcessedEvents> {
    const events = [...this.options.hs.sync(this.userId, this.deviceId), ...extra];
    const count = this.options.hs.oneTimeKeyCount(this.userId, this.deviceId, "signed_curve25519");
    const processed = await this.machine.receiveSyncChanges(
      JSON.stringify(events),
      new DeviceLists(),
      new Map([["signed_curve25519", count]]),
      this.fallbackKeys ? new Set<string>() : undefined,
    );
    await this.processOutgoing();
    return processed;
  }

  /**
   * Shares the room's current Megolm session with these users: claims missing Olm sessions,
   * then sends what rust's shareRoomKey returns (room keys and its withheld notices).
   */
  async shareRoomKey(
    roomId: string,
    userIds: readonly string[],
    strategy: () => CollectStrategy = () => CollectStrategy.deviceBasedStrategy(false, false),
  ): Promise<void> {
    await this.processOutgoing();
    const claim = await this.machine.getMissingSessions(userIds.map((u) => new UserId(u)));
    if (claim !== null && claim !== undefined) {
      const response = await this.#answer(claim.type, claim.body, {});
      await this.machine.markRequestAsSent(claim.id, claim.type, JSON.stringify(response));
    }
    const settings = new EncryptionSettings();
    settings.sharingStrategy = strategy();
    const requests = await this.machine.shareRoomKey(
      new RoomId(roomId),
      userIds.map((u) => new UserId(u)),
      settings,
    );
    for (const request of requests) {
      const response = await this.#answer(request.type, request.body, request);
      await this.machine.markRequestAsSent(request.id, request.type, JSON.stringify(response));
    }
    await this.processOutgoing();
  }

  /** An m.room.encrypted content for the room (after shareRoomKey). */
  async encryptRoomMessage(roomId: string, body: string): Promise<JsonObject> {
    const encrypted = await this.machine.encryptRoomEvent(
      new RoomId(roomId),
      "m.room.message",
      JSON.stringify({ msgtype: "m.text", body }),
    );
    return JSON.parse(encrypted) as JsonObject;
  }

  /** Decrypts a room event our side encrypted; returns its body or the error's message. */
  async decryptRoomMessage(
    roomId: string,
    content: JsonObject,
    sender: string,
  ): Promise<
    { ok: true; body: string } | { ok: false; why: string; withheldCode: string | undefined }
  > {
    const event = {
      type: "m.room.encrypted",
      event_id: `$${Math.random().toString(36).slice(2)}`,
      sender,
      origin_server_ts: Date.now(),
      room_id: roomId,
      content,
    };
    try {
      const decrypted = await this.machine.decryptRoomEvent(
        JSON.stringify(event),
        new RoomId(roomId),
        new DecryptionSettings(TrustRequirement.Untrusted),
      );
      const clear = JSON.parse(decrypted.event) as { content?: { body?: unknown } };
      const text = clear.content?.body;
      return typeof text === "string"
        ? { ok: true, body: text }
        : { ok: false, why: "no body", withheldCode: undefined };
    } catch (error) {
      if (error instanceof MegolmDecryptionError) {
        return { ok: false, why: error.description, withheldCode: error.withheldCode };
      }
      const why = error instanceof Error ? error.message : String(error);
      return { ok: false, why, withheldCode: undefined };
    }
  }

  /** Rust's to-device messages of one event type addressed to one device. */
  sentTo(eventType: string, userId: string, deviceId: string): JsonObject[] {
    return this.sent.flatMap((s) =>
      s.eventType === eventType && s.messages[userId]?.[deviceId] !== undefined
        ? [s.messages[userId][deviceId]]
        : [],
    );
  }

  close(): void {
    this.machine.close();
  }
}
