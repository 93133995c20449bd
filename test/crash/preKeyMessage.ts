/*
 * Reads the one-time key an Olm pre-key message was made with, so a session the peer sees can be
 * tied to the /keys/claim that created it on alice's side (and so to the time it was created).
 *
 * libolm's pre-key message: a version byte (3), then protobuf-style fields, each a tag byte, a
 * varint length and the bytes: 0x0A one-time key, 0x12 base key, 0x1A identity key, 0x22 message.
 * The body is unpadded base64, and so are the keys /keys/claim returns.
 */

const ONE_TIME_KEY_TAG = 0x0a;

/** The one-time key (unpadded base64) named by a pre-key message body, if it parses. */
export function oneTimeKeyOfPreKeyMessage(body: string): string | undefined {
  const bytes = Buffer.from(body, "base64");
  if (bytes.length < 2 || bytes[0] !== 3) return undefined;
  let at = 1;
  while (at < bytes.length) {
    const tag = bytes[at];
    at += 1;
    let length = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at];
      if (byte === undefined || shift > 28) return undefined;
      at += 1;
      length |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    if (at + length > bytes.length) return undefined;
    if (tag === ONE_TIME_KEY_TAG) {
      return bytes
        .subarray(at, at + length)
        .toString("base64")
        .replace(/=+$/, "");
    }
    at += length;
  }
  return undefined;
}
