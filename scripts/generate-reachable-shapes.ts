// Writes src/machine/reachableShapes.generated.ts: the shapes of every snapshot the peer machine
// can reach, computed from the machine (src/machine/exploreShapes.ts). Run from the repository
// root after changing the machine:
//
//   npx tsx scripts/generate-reachable-shapes.ts
//
// test/machine/reachableShapes.test.ts fails while the committed file and the machine disagree.
import { writeFileSync } from "node:fs";
import {
  exploreReachableShapes,
  renderReachableShapesModule,
} from "../src/machine/exploreShapes.js";

const target = new URL("../src/machine/reachableShapes.generated.ts", import.meta.url);
const { shapes, transitions } = exploreReachableShapes();
writeFileSync(target, renderReachableShapesModule(shapes));
console.log(`wrote ${target.pathname}: ${shapes.length} shapes (${transitions} transitions)`);
