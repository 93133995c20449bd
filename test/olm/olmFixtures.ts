import Olm from "@matrix-org/olm";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import { parseDeviceId, parseUserId } from "../../src/events/matrixIds.js";
import { identityKeysOf, signedDeviceKeys } from "../../src/olm/accountKeys.js";
import {
  buildOlmPlaintext,
  type ClaimedOneTimeKey,
  LibolmBackend,
  loadLibolm,
  OLM_ALGORITHM,
  signJson,
} from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";

/** Test-only: libolm is loaded before any raw account is made. */
export async function loadOlm(): Promise<void> {
  unwrap(await loadLibolm());
}

const disposers: (() => void)[] = [];

/** Frees everything made through these fixtures; call from afterEach. */
export function freeFixtures(): void {
  for (const dispose of disposers.splice(0)) dispose();
}

export async function backend(
  localpart: string,
  maxSessionsPerDevice?: number,
): Promise<LibolmBackend> {
  const created = unwrap(
    await LibolmBackend.create({
      userId: unwrap(parseUserId(`@${localpart}:example.org`)),
      deviceId: unwrap(parseDeviceId(`${localpart.toUpperCase()}DEVICE`)),
      ...(maxSessionsPerDevice === undefined ? {} : { maxSessionsPerDevice }),
    }),
  );
  disposers.push(() => created.dispose());
  return created;
}

/** What /keys/claim would hand out for the device: one of its freshly published keys. */
export function claimFrom(owner: LibolmBackend): ClaimedOneTimeKey {
  const [entry] = Object.entries(unwrap(owner.generateOneTimeKeys(1)));
  if (entry === undefined) throw new Error("no one-time key generated");
  return { keyId: entry[0], keyObject: entry[1] };
}

/** A pair with an established session: Alice opened it, Bob accepted her pre-key message. */
export async function connectedPair(): Promise<{ alice: LibolmBackend; bob: LibolmBackend }> {
  const alice = await backend("alice");
  const bob = await backend("bob");
  unwrap(alice.createOutboundSession(bob.ownDevice, claimFrom(bob)));
  unwrap(
    bob.decrypt(alice.ownDevice, unwrap(alice.encrypt(bob.ownDevice, "m.dummy", {})) as JsonObject),
  );
  return { alice, bob };
}

/**
 * A device driven with libolm directly, so a test can send what our backend never would
 * (a lying plaintext) and read what it sent (the plaintext itself).
 */
export class RawPeer {
  private constructor(
    readonly account: Olm.Account,
    readonly device: PeerDevice,
  ) {}

  static create(localpart: string): RawPeer {
    const account = new Olm.Account();
    account.create();
    const device: PeerDevice = {
      userId: unwrap(parseUserId(`@${localpart}:example.org`)),
      deviceId: unwrap(parseDeviceId(`${localpart.toUpperCase()}DEVICE`)),
      ...unwrap(identityKeysOf(account)),
    };
    const peer = new RawPeer(account, device);
    disposers.push(() => account.free());
    return peer;
  }

  /** One signed one-time key, as /keys/claim returns it. */
  claimable(extra: JsonObject = {}): ClaimedOneTimeKey {
    this.account.generate_one_time_keys(1);
    const [entry] = Object.entries(
      (JSON.parse(this.account.one_time_keys()) as { curve25519: Record<string, string> })
        .curve25519,
    );
    if (entry === undefined) throw new Error("no one-time key generated");
    this.account.mark_keys_as_published();
    const keyObject = unwrap(
      signJson(this.account, this.device.userId, this.device.deviceId, { key: entry[1], ...extra }),
    );
    return { keyId: `signed_curve25519:${entry[0]}`, keyObject };
  }

  outboundTo(device: PeerDevice, claimed: ClaimedOneTimeKey): Olm.Session {
    const session = this.session();
    session.create_outbound(this.account, device.curve25519, String(claimed.keyObject.key));
    return session;
  }

  deviceKeys(): JsonObject {
    return unwrap(signedDeviceKeys(this.account, this.device));
  }

  /** The honest plaintext this device would send to `recipient`. */
  plaintextFor(recipient: PeerDevice, overrides: JsonObject = {}): JsonObject {
    const honest = buildOlmPlaintext({
      sender: this.device,
      senderDeviceKeys: this.deviceKeys(),
      recipient,
      type: "m.dummy",
      content: {},
    });
    return { ...honest, ...overrides };
  }

  /** Encrypts any plaintext text into an `m.room.encrypted` content for `recipient`. */
  envelope(
    session: Olm.Session,
    recipient: PeerDevice,
    plaintext: JsonObject | string,
  ): JsonObject {
    const text = typeof plaintext === "string" ? plaintext : JSON.stringify(plaintext);
    const { type, body } = session.encrypt(text);
    return {
      algorithm: OLM_ALGORITHM,
      sender_key: this.device.curve25519,
      ciphertext: { [recipient.curve25519]: { type, body } },
    };
  }

  /** Opens the inbound session a pre-key message starts and returns its plaintext. */
  decryptPreKey(sender: PeerDevice, content: JsonObject): string {
    const { type, body } = ciphertextOf(content, this.device);
    const session = this.session();
    session.create_inbound_from(this.account, sender.curve25519, body);
    return session.decrypt(type, body);
  }

  private session(): Olm.Session {
    const session = new Olm.Session();
    disposers.push(() => session.free());
    return session;
  }
}

/** Test-only: the Olm message addressed to `recipient` in an encrypted content. */
export function ciphertextOf(
  content: unknown,
  recipient: PeerDevice,
): { type: number; body: string } {
  const entry = (content as { ciphertext: Record<string, { type: number; body: string }> })
    .ciphertext[recipient.curve25519];
  if (entry === undefined) throw new Error("no ciphertext for the recipient");
  return entry;
}

/**
 * The one-time key a pre-key message was made with. Olm's pre-key message is version byte 3,
 * then protobuf field 1 (tag 0x0A, 32 bytes): the recipient's one-time key.
 */
export function oneTimeKeyOfPreKey(body: string): string {
  const bytes = Buffer.from(body, "base64");
  if (bytes[0] !== 3 || bytes[1] !== 0x0a || bytes[2] !== 32)
    throw new Error("not a pre-key message");
  return bytes.subarray(3, 35).toString("base64").replace(/=+$/, "");
}
