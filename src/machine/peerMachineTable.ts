import { compilePeerMachine } from "./compilePeerMachine.js";
import { peerMachine } from "./peerMachine.js";

/** The peer machine as it is executed: compiled once, when the library loads. */
export const PEER_MACHINE_TABLE = compilePeerMachine(peerMachine);
