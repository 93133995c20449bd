import type { SessionWithheldRequest } from "../../src/coordinator/keyWithholdingTypes.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject, JsonValue } from "../../src/events/json.js";
import type { PeerSnapshot } from "../../src/machine/peerSnapshot.js";
import type { Result } from "../../src/result.js";
import type {
  KeysClaimRequest,
  SendToDeviceRequest,
  TransportFailure,
} from "../../src/transport/transport.js";

/*
 * The messages between the parent (relay, story, checks) and the child running alice's
 * coordinator over SQLite. Plain JSON over Node's IPC channel. Time is data: every command
 * carries the story's clock reading, and the child's clock returns the last one it was given.
 */

// ---- parent → child ----

export interface StartMessage {
  readonly kind: "start";
  readonly dbPath: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly devices: readonly PeerDevice[];
  readonly time: number;
  /** Whether the homeserver has our device keys (a client keeps that flag; here the relay says). */
  readonly published: boolean;
  /** One-time keys to publish with the device keys, the first time only. */
  readonly initialOneTimeKeys: number;
  readonly maxMessagesPerRequest: number;
  /** A deliberately broken store (storeMutations.ts), to test the checks; null normally. */
  readonly mutation: string | null;
}

export type Command =
  | { readonly op: "establish"; readonly devices: readonly PeerDevice[] }
  | { readonly op: "withhold"; readonly requests: readonly SessionWithheldRequest[] }
  /** Pull our to-device events, handle each, then acknowledge the batch (a /sync since token). */
  | { readonly op: "sync" }
  | { readonly op: "flush" }
  | { readonly op: "states"; readonly devices: readonly PeerDevice[] }
  | { readonly op: "setTime" }
  /** Drop our Olm sessions with the device (a session being replaced), durably. */
  | { readonly op: "forget"; readonly device: PeerDevice }
  /** Publish one-time keys up to `target`; `published` is the server's count (/sync's). */
  | { readonly op: "topUpKeys"; readonly target: number; readonly published: number };

export type CommandOp = Command["op"];

export interface CommandMessage {
  readonly kind: "command";
  readonly id: number;
  readonly time: number;
  readonly command: Command;
}

export interface CallResultMessage {
  readonly kind: "callResult";
  readonly id: number;
  readonly result: CallResult;
}

export type ParentMessage = StartMessage | CommandMessage | CallResultMessage;

// ---- child → parent ----

/** What the child asks the relay (the homeserver, as its transport would). */
export type Call =
  | { readonly op: "sendToDevice"; readonly request: SendToDeviceRequest }
  | { readonly op: "claimKeys"; readonly request: KeysClaimRequest }
  | { readonly op: "uploadKeys"; readonly body: JsonObject }
  | { readonly op: "syncPull" }
  | { readonly op: "syncAck"; readonly upTo: number }
  /** Around each store commit: the relay may kill the child here (never answered then). */
  | { readonly op: "commitPoint"; readonly when: "before" | "after" };

export type CallOp = Call["op"];

export interface SyncBatch {
  readonly events: readonly JsonObject[];
  /** Acknowledging this position drops every event up to it; the rest come again. */
  readonly upTo: number;
}

export type CallResult =
  | Result<JsonValue | undefined, TransportFailure>
  | { readonly ok: true; readonly value: SyncBatch };

export interface ReadyMessage {
  readonly kind: "ready";
  readonly ownDevice: PeerDevice;
  /** From process start to ready (module load, libolm, SQLite, restore, startup flush). */
  readonly startupMs: number;
  readonly moduleLoadMs: number;
}

export interface CallMessage {
  readonly kind: "call";
  readonly id: number;
  readonly call: Call;
}

export interface StateEntry {
  readonly deviceId: string;
  readonly userId: string;
  readonly snapshot: PeerSnapshot;
}

export type CommandResult =
  | { readonly op: "establish"; readonly outcomes: readonly string[] }
  | { readonly op: "withhold" | "flush"; readonly stillPending: number }
  | { readonly op: "sync"; readonly handled: readonly string[] }
  | {
      readonly op: "states";
      readonly states: readonly StateEntry[];
      readonly pendingRequests: number;
    }
  | { readonly op: "setTime" }
  | { readonly op: "forget"; readonly dropped: number }
  | { readonly op: "topUpKeys"; readonly uploaded: number };

export interface DoneMessage {
  readonly kind: "done";
  readonly id: number;
  readonly result: CommandResult;
}

/** Things the library told the child through its hooks. */
export type Note =
  | { readonly type: "hookError"; readonly where: string; readonly detail: string }
  /** The hooks a client acts on (re-share withheld keys; request missing keys). */
  | {
      readonly type: "peerReachable" | "repliedToNotice";
      readonly userId: string;
      readonly deviceId: string;
    }
  /** The machine queued an m.dummy for this device (DUMMY_QUEUED). */
  | {
      readonly type: "dummyDecided";
      readonly userId: string;
      readonly deviceId: string;
      readonly replyId: number;
    };

export interface NoteMessage {
  readonly kind: "note";
  readonly note: Note;
}

/** The child cannot go on (its store or account failed to open, an uncaught error). */
export interface FatalMessage {
  readonly kind: "fatal";
  readonly detail: string;
}

export type ChildMessage = ReadyMessage | CallMessage | DoneMessage | NoteMessage | FatalMessage;

const KINDS: readonly string[] = ["ready", "call", "done", "note", "fatal"];

/** Both ends are ours; this only guards against a torn or foreign message. */
export function isChildMessage(value: unknown): value is ChildMessage {
  return (
    typeof value === "object" &&
    value !== null &&
    KINDS.includes(String(Reflect.get(value, "kind")))
  );
}

export function isParentMessage(value: unknown): value is ParentMessage {
  const kind = typeof value === "object" && value !== null ? Reflect.get(value, "kind") : undefined;
  return kind === "start" || kind === "command" || kind === "callResult";
}
