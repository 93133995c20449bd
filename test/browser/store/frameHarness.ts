/*
 * What a test page puts on its window for the same-origin frames it starts (pages/*.html). A frame
 * is a new JS context, as a reloaded tab is: its own copy of the library, its own IndexedDB
 * connection and Web Lock. Only strings and numbers cross between the two realms, so nothing
 * depends on objects (or instanceof) from the other one.
 */

export const ALICE_HARNESS = "kwAliceHarness";
export const TAB_HARNESS = "kwTabHarness";

export const ALICE = { userId: "@alice:example.org", deviceId: "ALICEPHONE" } as const;
export const BOB = { userId: "@bob:example.org", deviceId: "BOBLAPTOP" } as const;

/** Alice's device: the coordinator and libolm in the frame, the homeserver double in the test. */
export interface AliceHarness {
  readonly databaseName: string;
  readonly pickleKey: readonly number[];
  /** `"first"`: upload keys and share with bob. `"resume"`: a restart; flush what is pending. */
  plan(): "first" | "resume";
  /** A Transport call as JSON: `sendToDevice` or `claimKeys`, request in, result out. */
  call(endpoint: "sendToDevice" | "claimKeys", requestJson: string): Promise<string>;
  /** POST /keys/upload as alice; the response (or refusal) as JSON. */
  uploadKeys(bodyJson: string): string;
  /** POST /keys/query for bob, as JSON. */
  queryBob(): string;
  /** What the frame tells the test: `boot`, `done` or `error`, with a JSON payload. */
  report(kind: "boot" | "done" | "error", json: string): void;
}

/** One tab of the same client: opens the store and says whether it became the owner. */
export interface TabHarness {
  readonly databaseName: string;
  readonly lockTimeoutMs: number;
  /** The tab's outcome as JSON (`TabReport`). */
  report(json: string): void;
}

export interface TabReport {
  readonly tab: string;
  readonly ok: boolean;
  readonly reason?: string;
  /** Peer keys the owner found when it opened (what earlier owners committed). */
  readonly peersAtOpen?: readonly string[];
}

/** The test page's window, as a frame sees it. */
export const harnessOf = <T>(name: string): T => {
  const harness: unknown = Reflect.get(window.parent, name);
  if (typeof harness !== "object" || harness === null) throw new Error(`no ${name} on the parent`);
  return harness as T;
};

/** A same-origin frame of `page` (under pages/), added to the test page's document. */
export const addFrame = (page: string): HTMLIFrameElement => {
  const frame = document.createElement("iframe");
  frame.src = `/test/browser/store/pages/${page}`;
  document.body.append(frame);
  return frame;
};
