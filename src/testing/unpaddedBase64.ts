const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Standard unpadded base64, as Matrix writes keys. Written out so the kit needs neither Node's
 * `Buffer` nor the browser's `btoa` (which takes a binary string, not bytes).
 */
export function unpaddedBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET[(triple >> 18) & 63];
    out += ALPHABET[(triple >> 12) & 63];
    if (b !== undefined) out += ALPHABET[(triple >> 6) & 63];
    if (c !== undefined) out += ALPHABET[triple & 63];
  }
  return out;
}
