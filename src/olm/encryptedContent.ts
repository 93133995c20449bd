import type { PeerDevice } from "../devices/peerDevice.js";
import { copyJson, isJsonObject, ownJsonField } from "../events/json.js";
import { ok, type Result } from "../result.js";
import { OLM_ALGORITHM, type OlmCiphertext, type OlmFailure } from "./olmBackend.js";
import { olmFailure } from "./olmFailure.js";
import { exceedsOlmLimit, MAX_OLM_BODY_BYTES } from "./olmInputLimits.js";

/**
 * Picks our message out of an incoming Olm `m.room.encrypted` content, after checking it came
 * under the sender's identity key and is addressed to `recipient` (us).
 */
export function ciphertextFor(
  content: unknown,
  sender: PeerDevice,
  recipient: PeerDevice,
): Result<OlmCiphertext, OlmFailure> {
  const copied = copyJson(content);
  if (!copied.ok) return olmFailure("malformedInput", `The content: ${copied.detail}`);
  const envelope = copied.value;
  if (!isJsonObject(envelope)) return olmFailure("malformedInput", "The content is not an object.");
  if (ownJsonField(envelope, "algorithm") !== OLM_ALGORITHM) {
    return olmFailure("malformedInput", `The algorithm is not ${OLM_ALGORITHM}.`);
  }
  const senderKey = ownJsonField(envelope, "sender_key");
  if (typeof senderKey !== "string")
    return olmFailure("malformedInput", "`sender_key` is not a string.");
  if (senderKey !== sender.curve25519) {
    return olmFailure(
      "notForUs",
      `\`sender_key\` is not the identity key of ${sender.userId} ${sender.deviceId}.`,
    );
  }
  const ciphertext = ownJsonField(envelope, "ciphertext");
  if (ciphertext === undefined || !isJsonObject(ciphertext)) {
    return olmFailure("malformedInput", "`ciphertext` is not an object.");
  }
  const mine = ownJsonField(ciphertext, recipient.curve25519);
  if (mine === undefined)
    return olmFailure("notForUs", "`ciphertext` has nothing for our identity key.");
  if (!isJsonObject(mine))
    return olmFailure("malformedInput", "Our `ciphertext` entry is not an object.");
  const type = ownJsonField(mine, "type");
  const body = ownJsonField(mine, "body");
  if (type !== 0 && type !== 1)
    return olmFailure("malformedInput", "The Olm message type is not 0 or 1.");
  if (typeof body !== "string" || body === "") {
    return olmFailure("malformedInput", "The Olm message body is not a non-empty string.");
  }
  // libolm copies the body onto its 64 KiB wasm stack (create_inbound_from, matches_inbound_from).
  const tooLarge = exceedsOlmLimit(`The type ${type} Olm message body`, body, MAX_OLM_BODY_BYTES);
  return tooLarge ?? ok({ type, body });
}
