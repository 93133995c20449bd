import Olm from "@matrix-org/olm";
import {
  type DeviceId,
  DeviceList,
  type JsonObject,
  type JsonValue,
  type PeerDevice,
  type UserId,
} from "../src/index.js";
import { LibolmBackend } from "../src/libolm.js";
import { openBenchCoordinator } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { noticeEvent } from "./heapPerDevice.js";
import { median, nowNs } from "./median.js";

/*
 * Figure (f): one m.dummy reply with real libolm, against the raw libolm calls that work makes.
 *
 * Library, per repetition: a fresh LibolmBackend (our account, with a pickle key as a client
 * that persists has) and coordinator (no store), built untimed; the peer is a real libolm
 * account (a LibolmBackend) in the device list, with no session yet. Timed: one
 * `handleToDeviceEvent(m.no_olm from the peer)`: decode, authenticate the sender, the machine,
 * /keys/claim (the transport double answers with the peer's next real signed one-time key),
 * verify the key's signature, create the outbound session, encrypt the m.dummy, send the
 * request (the double acknowledges it) and settle the reply.
 *
 * Raw, per repetition, the libolm calls that path makes (read off src/olm/libolmBackend.ts,
 * claimedKey.ts, signedJson.ts, olmPickles.ts), on a raw Olm.Account, with the same key:
 *   1. new Olm.Utility()                                  (verifyJsonSignature)
 *   2. utility.ed25519_verify(peer ed25519, canonical JSON of the key object, signature)
 *   3. utility.free()
 *   4. new Olm.Session()                                  (createOutboundSession)
 *   5. session.create_outbound(account, peer curve25519, one-time key)
 *   6. session.pickle(pickle key)                         (kept session's pickle)
 *   7. session.encrypt(plaintext JSON)                    (encrypt; same plaintext shape and size)
 *   8. session.pickle(pickle key)                         (the ratchet moved: re-pickled)
 * The canonical JSON and the plaintext string are made before the clock starts (they are the
 * library's own JSON work, not libolm's). Library and raw repetitions alternate; each figure is
 * a median. dummy_overhead_pct = (library − raw) / raw × 100.
 */

export const DUMMY_REPETITIONS = 200;
const WARM_UP = 20;
const OWN_USER = "@dummy:own.example.org" as UserId;
const OWN_DEVICE = "DUMMYOWNDEVICE" as DeviceId;

export interface DummyFigure {
  readonly libraryUs: number;
  readonly rawUs: number;
  readonly overheadPct: number;
  readonly repetitions: number;
}

interface OneTimeKey {
  readonly keyId: string;
  readonly keyObject: JsonObject;
}

export async function dummyReplyFigure(repetitions = DUMMY_REPETITIONS): Promise<DummyFigure> {
  const peerBackend = await LibolmBackend.create({
    userId: "@peer:peer.example.org" as UserId,
    deviceId: "PEERDEVICE" as DeviceId,
  });
  if (!peerBackend.ok) throw new Error(`libolm: ${peerBackend.detail}`);
  const peer = peerBackend.value;
  const total = repetitions + WARM_UP;
  const keys: OneTimeKey[] = [];
  while (keys.length < total) {
    const batch = peer.generateOneTimeKeys(Math.min(100, total - keys.length));
    if (!batch.ok) throw new Error(`libolm: ${batch.detail}`);
    for (const [keyId, keyObject] of Object.entries(batch.value)) keys.push({ keyId, keyObject });
  }
  const pickleKey = new Uint8Array(32).map((_, i) => i + 1);
  const raw = new RawLibolm(peer.ownDevice, pickleKey);
  const library: number[] = [];
  const rawTimes: number[] = [];
  try {
    for (const [index, key] of keys.entries()) {
      // The peer keeps only its newest 100 one-time keys: the last one still opens the message.
      const libraryNs = await libraryReply(peer, key, pickleKey, index === keys.length - 1);
      const rawNs = raw.reply(key);
      if (index >= WARM_UP) {
        library.push(libraryNs);
        rawTimes.push(rawNs);
      }
    }
  } finally {
    raw.dispose();
    peer.dispose();
  }
  const libraryUs = median(library) / 1000;
  const rawUs = median(rawTimes) / 1000;
  return { libraryUs, rawUs, overheadPct: ((libraryUs - rawUs) / rawUs) * 100, repetitions };
}

async function libraryReply(
  peer: LibolmBackend,
  key: OneTimeKey,
  pickleKey: Uint8Array,
  checkDecrypts: boolean,
): Promise<number> {
  const created = await LibolmBackend.create({
    userId: OWN_USER,
    deviceId: OWN_DEVICE,
    pickleKey: pickleKey.slice(),
  });
  if (!created.ok) throw new Error(`libolm: ${created.detail}`);
  const own = created.value;
  const device = peer.ownDevice;
  const answer: JsonValue = {
    one_time_keys: { [device.userId]: { [device.deviceId]: { [key.keyId]: key.keyObject } } },
    failures: {},
  };
  const transport = new RecordingTransport(true, () => answer);
  const coordinator = await openBenchCoordinator("none", {
    olm: own,
    transport,
    devices: new DeviceList([device]),
  });
  const event = noticeEvent(device);
  const started = nowNs();
  const result = await coordinator.kw.handleToDeviceEvent(event);
  const ns = nowNs() - started;
  await coordinator.close();
  if (result.kind !== "noOlmNotice" || result.reply !== "newSession") {
    throw new Error(`bench: the notice was answered ${JSON.stringify(result).slice(0, 200)}`);
  }
  if (transport.claims !== 1 || transport.sent.length !== 1) {
    throw new Error("bench: expected one claim and one request");
  }
  if (checkDecrypts) {
    // The peer decrypts what was sent: the m.dummy is a real Olm message.
    const sent = transport.sent[0];
    const content = sent?.body.messages[device.userId]?.[device.deviceId];
    const opened = content === undefined ? undefined : peer.decrypt(own.ownDevice, content);
    if (sent?.eventType !== "m.room.encrypted" || !opened?.ok || opened.value.type !== "m.dummy") {
      const why = opened === undefined || opened.ok ? "" : `${opened.reason}: ${opened.detail}`;
      throw new Error(`bench: the peer could not decrypt the m.dummy (${why})`);
    }
  }
  own.dispose();
  return ns;
}

/** The raw libolm calls, on an account of its own (libolm is initialised by the backends). */
class RawLibolm {
  readonly #account = new Olm.Account();
  readonly #plaintext: string;

  constructor(
    private readonly peer: PeerDevice,
    private readonly pickleKey: Uint8Array,
  ) {
    this.#account.create();
    const identity = JSON.parse(this.#account.identity_keys()) as {
      curve25519: string;
      ed25519: string;
    };
    // The library's plaintext for an m.dummy: same fields, same sizes (signed device keys).
    const signedDeviceKeys = {
      user_id: OWN_USER,
      device_id: OWN_DEVICE,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: {
        [`curve25519:${OWN_DEVICE}`]: identity.curve25519,
        [`ed25519:${OWN_DEVICE}`]: identity.ed25519,
      },
      signatures: { [OWN_USER]: { [`ed25519:${OWN_DEVICE}`]: this.#account.sign("x") } },
    };
    this.#plaintext = JSON.stringify({
      type: "m.dummy",
      content: {},
      sender: OWN_USER,
      recipient: peer.userId,
      recipient_keys: { ed25519: peer.ed25519 },
      keys: { ed25519: identity.ed25519 },
      sender_device_keys: signedDeviceKeys,
    });
  }

  reply(key: OneTimeKey): number {
    const { payload, signature, curve } = signedParts(key, this.peer);
    const started = nowNs();
    const utility = new Olm.Utility();
    utility.ed25519_verify(this.peer.ed25519, payload, signature);
    utility.free();
    const session = new Olm.Session();
    session.create_outbound(this.#account, this.peer.curve25519, curve);
    session.pickle(this.pickleKey.slice());
    session.encrypt(this.#plaintext);
    session.pickle(this.pickleKey.slice());
    const ns = nowNs() - started;
    session.free();
    return ns;
  }

  dispose(): void {
    this.#account.free();
  }
}

/** The key, its signature by the peer, and the canonical JSON that signature covers. */
function signedParts(
  key: OneTimeKey,
  peer: PeerDevice,
): { payload: string; signature: string; curve: string } {
  const { signatures, unsigned: _unsigned, ...signedPart } = key.keyObject;
  const bySigner = (signatures as Record<string, Record<string, string>> | undefined)?.[
    peer.userId
  ];
  const signature = bySigner?.[`ed25519:${peer.deviceId}`];
  const curve = signedPart.key;
  if (typeof signature !== "string" || typeof curve !== "string") {
    throw new Error("bench: a one-time key without its signature");
  }
  return { payload: canonicalJson(signedPart), signature, curve };
}

function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map(
        (k) =>
          `${JSON.stringify(k)}:${canonicalJson((value as Record<string, JsonValue>)[k] ?? null)}`,
      );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}
