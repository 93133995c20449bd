/**
 * matrix-key-withholding: the Matrix key-withholding protocol (`m.room_key.withheld`, and the
 * `m.no_olm` rules in particular) for a client's end-to-end-encryption layer.
 *
 * - The codec: decode any incoming withheld event into a typed value or a typed rejection;
 *   build exactly what the library sends.
 * - The per-peer machine: `stepPeer(snapshot, event)` → next snapshot + commands, pure.
 * - The diagram of the machine, generated from its definition.
 */

export { mermaidStateDiagram } from "./diagrams/mermaidStateDiagram.js";
export * from "./events/index.js";
export * from "./machine/index.js";
export { ok, type Result } from "./result.js";
