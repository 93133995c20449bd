import type Olm from "@matrix-org/olm";
import type { Freeable } from "./sessionStore.js";

/**
 * A live libolm session with its pickle as of its last change, so saving a peer's sessions
 * re-pickles nothing: each operation pickles only the session it changed. Without a pickle key
 * the pickle stays empty and is never read.
 */
export class KeptSession implements Freeable {
  constructor(
    readonly olm: Olm.Session,
    public pickle: string,
  ) {}

  free(): void {
    this.olm.free();
  }
}
