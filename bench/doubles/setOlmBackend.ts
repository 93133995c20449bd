import {
  type ClaimedOneTimeKey,
  type DecryptedOlmEvent,
  type JsonObject,
  OLM_ALGORITHM,
  type OlmBackend,
  type OlmEncryptedContent,
  type OlmFailure,
  ok,
  type PeerDevice,
  type Result,
} from "../../src/index.js";

/*
 * A bench-only OlmBackend: a Set of the curve25519 keys we "have a session" with. The real
 * LibolmBackend cannot hold 100,000 sessions cheaply (each is ~3.4 KB of wasm heap and a real
 * /keys/claim round; its default maxPeers is 50,000), and share outcomes need nothing from Olm
 * but `hasSession`. `encrypt` returns a fixed, well-formed Olm ciphertext (no cryptography), so
 * figure (e) measures the library around an m.dummy reply, not libolm; libolm is figure (f).
 */
const FAKE_BODY = "Awogbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbench";

export class SetOlmBackend implements OlmBackend {
  readonly sessions = new Set<string>();

  constructor(readonly ownDevice: PeerDevice) {}

  hasSession(device: PeerDevice): boolean {
    return this.sessions.has(device.curve25519);
  }

  createOutboundSession(_device: PeerDevice, _key: ClaimedOneTimeKey): Result<void, OlmFailure> {
    return { ok: false, reason: "sessionCreationFailed", detail: "bench backend: no claims" };
  }

  encrypt(
    device: PeerDevice,
    _eventType: string,
    _content: JsonObject,
  ): Result<OlmEncryptedContent, OlmFailure> {
    if (!this.sessions.has(device.curve25519)) {
      return { ok: false, reason: "noSession", detail: "bench backend: no session" };
    }
    return ok({
      algorithm: OLM_ALGORITHM,
      sender_key: this.ownDevice.curve25519,
      ciphertext: { [device.curve25519]: { type: 1, body: FAKE_BODY } },
    });
  }

  decrypt(_sender: PeerDevice, _content: JsonObject): Result<DecryptedOlmEvent, OlmFailure> {
    return { ok: false, reason: "decryptionFailed", detail: "bench backend: no decryption" };
  }
}
