import { SHAPE_CODE_COUNT } from "./peerShape.js";
import { REACHABLE_SHAPE_CODES, REACHABLE_SHAPE_COUNT } from "./reachableShapes.generated.js";

/*
 * The reachable shapes as a bitmap over every shape code (135 KB), decoded once at load from the
 * generated module: a restore's check is then a little arithmetic and one bit test.
 */

function decode(): number[] {
  const binary = atob(REACHABLE_SHAPE_CODES);
  const codes: number[] = [];
  let previous = 0;
  let delta = 0;
  let scale = 1;
  for (let i = 0; i < binary.length; i += 1) {
    const byte = binary.charCodeAt(i);
    delta += (byte & 0x7f) * scale;
    if (byte & 0x80) {
      scale *= 0x80;
      continue;
    }
    previous += delta;
    codes.push(previous);
    delta = 0;
    scale = 1;
  }
  return codes;
}

const CODES: readonly number[] = decode();
const BITMAP = new Uint8Array(Math.ceil(SHAPE_CODE_COUNT / 8));
for (const code of CODES) BITMAP[code >> 3] = (BITMAP[code >> 3] ?? 0) | (1 << (code & 7));

// A damaged generated file must not quietly accept or refuse snapshots.
if (CODES.length !== REACHABLE_SHAPE_COUNT || CODES.some((code) => code >= SHAPE_CODE_COUNT)) {
  throw new Error("reachableShapes.generated.ts does not decode: regenerate it");
}

/** Whether the machine reaches snapshots of this shape code (peerShapeCode). */
export const isReachableShapeCode = (code: number): boolean =>
  ((BITMAP[code >> 3] ?? 0) & (1 << (code & 7))) !== 0;

/** Every reachable shape code, ascending. */
export const reachableShapeCodes = (): readonly number[] => CODES;
