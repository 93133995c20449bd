import { instance } from "@viz-js/viz";

/*
 * DOT → SVG with Graphviz compiled to wasm (@viz-js/viz, a devDependency): no browser, no
 * network, no system Graphviz. Only scripts and tests import this file; the package entries do
 * not, so the library itself never loads viz.
 */

/** Renders `dot` with the `dot` layout engine; throws with Graphviz's messages if it refuses. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success") {
    throw new Error(`graphviz: ${result.errors.map((e) => e.message).join("; ")}`);
  }
  // Graphviz's own warnings (an edge it could not clip, say) would mean a misdrawn diagram.
  const warnings = result.errors.filter((e) => e.level === "warning");
  if (warnings.length > 0) {
    throw new Error(`graphviz warned: ${warnings.map((e) => e.message.trim()).join("; ")}`);
  }
  return result.output;
}
