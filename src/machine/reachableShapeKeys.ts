import { shapeKeyOfCode } from "./peerShape.js";
import { reachableShapeCodes } from "./reachableShapeSet.js";

/**
 * Every reachable shape key (peerShape.ts), sorted: for tests, the testing kit and the docs. The
 * library itself checks codes (reachableShapeSet.ts) and never builds these strings.
 */
export const REACHABLE_SHAPES: readonly string[] = reachableShapeCodes().map(shapeKeyOfCode).sort();
