import type { PeerDevice } from "../../devices/peerDevice.js";
import type { DeviceId, UserId } from "../../events/matrixIds.js";
import type { LibolmBackend } from "../../olm/libolmBackend.js";
import type { Transport } from "../../transport/transport.js";
import type { ToDeviceEvent } from "../homeserver/types.js";

/** What the kit hands a client's glue: our device, its network and clock, the peers' keys. */
export interface GlueEnvironment {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  /**
   * Our device's Olm account, identity keys already published. The glue must use it (the
   * kit reads sessions from it, and loses one to model a corrupted session).
   */
  readonly olm: LibolmBackend;
  /** Our connection to the homeserver double. */
  readonly transport: Transport;
  /** The kit's clock (ms); it only moves forward. */
  readonly now: () => number;
  /** The peers' devices, signatures checked, as the glue's /keys/query would find them. */
  readonly peers: readonly PeerDevice[];
}

/**
 * A client's glue around the library, as the dedup properties drive it. Each call is one
 * thing the client does in real life; the kit watches the network and the Olm account.
 */
export interface GlueUnderTest {
  /** Share a room key with these devices, the client's own way (e.g. `establishSessions`). */
  shareRoomKey(devices: readonly PeerDevice[]): Promise<void>;
  /** Handle the to-device events of one /sync response, in order. */
  receiveToDevice(events: readonly ToDeviceEvent[]): Promise<void>;
  /** What the client does when the connection comes back (e.g. `flush()`). */
  retry(): Promise<void>;
  /** Stop timers and free what the glue holds (not `env.olm`: the kit frees it). */
  close(): Promise<void>;
}

/**
 * Builds the client's glue for one run over the kit's environment; {@link runDedupScenario}
 * calls it once, before the first step, and calls `close()` at the end.
 */
export type GlueFactory = (env: GlueEnvironment) => Promise<GlueUnderTest>;
