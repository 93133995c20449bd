import { type AnyActorRef, createActor, type InspectionEvent } from "xstate";
import type { PeerDevice, PeerKey } from "../devices/peerDevice.js";
import { samePeerContext } from "../machine/peerContext.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import { peerMachine } from "../machine/peerMachine.js";
import type { PeerSnapshot } from "../machine/peerSnapshot.js";
import { peerLeaves } from "../machine/peerSnapshot.js";

/**
 * The `inspect` option: XState inspection events (`@xstate.actor`, `@xstate.event`,
 * `@xstate.snapshot`, `@xstate.microstep`, `@xstate.action`) for the devices `devices` picks, for
 * an inspector such as Stately's (`createBrowserInspector().inspect`) or your own logging.
 *
 * Privacy: the events carry the device's user id, device id and curve25519 key (in the actor's
 * id), its machine state and every event it receives, with times. Inspect only devices you may
 * see, and never send these events off the device without the user's consent.
 */
export interface KeyWithholdingInspection {
  /** Receives every inspection event; what it returns or throws is ignored. */
  readonly observer: (event: InspectionEvent) => unknown;
  /**
   * Which devices to inspect (default: every device). Each inspected device costs an XState
   * actor (some 4 KB) while the coordinator runs: pick a few in a large room.
   */
  readonly devices?: (device: PeerDevice) => boolean;
}

/**
 * The library executes the compiled machine, not an XState actor; for an inspected device it
 * keeps a real actor of the same definition beside it and feeds it the same events, so the
 * inspector sees XState's own events (test/machine/compiledMachine.test.ts proves both agree).
 * The actor starts from the device's state whenever the two differ (a device restored, or first
 * inspected mid-life). Its command actions are the machine's empty ones: it does nothing.
 */
export class PeerInspection {
  readonly #actors = new Map<PeerKey, AnyActorRef>();

  constructor(
    private readonly inspection: KeyWithholdingInspection,
    private readonly onError: (thrown: unknown) => void,
  ) {}

  /** Mirrors one step of a device's machine, if the device is inspected. */
  step(device: PeerDevice, key: PeerKey, before: PeerSnapshot, event: PeerEvent): void {
    try {
      const picks = this.inspection.devices;
      if (picks !== undefined && !picks(device)) return;
      let actor = this.#actors.get(key);
      if (actor === undefined || !holds(actor, before)) {
        actor?.stop();
        actor = createActor(peerMachine, {
          id: key,
          snapshot: peerMachine.resolveState({ value: before.value, context: before.context }),
          inspect: (inspectionEvent) => this.#tell(inspectionEvent),
        });
        actor.start();
        this.#actors.set(key, actor);
      }
      actor.send(event);
    } catch (thrown) {
      this.onError(thrown);
    }
  }

  #tell(event: InspectionEvent): void {
    try {
      const returned = this.inspection.observer(event);
      if (returned instanceof Promise) returned.catch((thrown: unknown) => this.onError(thrown));
    } catch (thrown) {
      this.onError(thrown);
    }
  }
}

function holds(actor: AnyActorRef, snapshot: PeerSnapshot): boolean {
  const current: { value: unknown; context: unknown } = actor.getSnapshot();
  const a = peerLeaves(current.value as PeerSnapshot["value"]);
  const b = peerLeaves(snapshot.value);
  return (
    a.olm === b.olm &&
    a.reply === b.reply &&
    samePeerContext(current.context as PeerSnapshot["context"], snapshot.context)
  );
}

/** Reads the option from untrusted input: undefined, or an observer and an optional filter. */
export function readInspection(
  input: unknown,
):
  | { readonly ok: true; readonly value: KeyWithholdingInspection | undefined }
  | { readonly ok: false; readonly detail: string } {
  if (input === undefined) return { ok: true, value: undefined };
  if (typeof input !== "object" || input === null) {
    return { ok: false, detail: "inspect must be { observer, devices? }" };
  }
  const observer: unknown = Reflect.get(input, "observer");
  const devices: unknown = Reflect.get(input, "devices");
  if (typeof observer !== "function")
    return { ok: false, detail: "inspect.observer must be a function" };
  if (devices !== undefined && typeof devices !== "function") {
    return { ok: false, detail: "inspect.devices must be a function" };
  }
  const filter = devices as ((device: PeerDevice) => unknown) | undefined;
  return {
    ok: true,
    value: {
      observer: observer as (event: InspectionEvent) => unknown,
      ...(filter === undefined ? {} : { devices: (device: PeerDevice) => filter(device) === true }),
    },
  };
}
