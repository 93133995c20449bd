import { writeFileSync } from "node:fs";
import { generateDiagramFiles } from "./diagramFiles.js";

// `npm run diagrams`: writes every generated diagram; a test fails when a committed one differs.
for (const file of await generateDiagramFiles()) {
  writeFileSync(new URL(`../${file.path}`, import.meta.url), file.content);
  console.log(`wrote ${file.path}`);
}
