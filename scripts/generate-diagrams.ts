import { writeFileSync } from "node:fs";
import { peerMachineDoc } from "../src/diagrams/peerMachineDoc.js";

const target = new URL("../docs/diagrams/peer-machine.md", import.meta.url);
writeFileSync(target, peerMachineDoc());
console.log(`wrote ${target.pathname}`);
