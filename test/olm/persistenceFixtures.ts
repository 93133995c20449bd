import type { JsonObject } from "../../src/events/json.js";
import { parseDeviceId, parseUserId } from "../../src/events/matrixIds.js";
import {
  type ClaimedOneTimeKey,
  LibolmBackend,
  type LibolmBackendOptions,
  type OlmStateChanges,
} from "../../src/olm/index.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import {
  emptyChanges,
  type KeyWithholdingStore,
  type StoredOlmState,
} from "../../src/store/keyWithholdingStore.js";
import { unwrap } from "../events/fixtures.js";

/** Test-only: a fixed 32-byte pickle key per name, so two devices never share one by accident. */
export function pickleKeyOf(name: string): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (name.charCodeAt(i % name.length) + i) & 0xff);
}

const opened: LibolmBackend[] = [];

/** Disposes every backend these fixtures opened; call from afterEach. */
export function disposeOpened(): void {
  for (const backend of opened.splice(0)) backend.dispose();
}

export function optionsFor(localpart: string): LibolmBackendOptions {
  return {
    userId: unwrap(parseUserId(`@${localpart}:example.org`)),
    deviceId: unwrap(parseDeviceId(`${localpart.toUpperCase()}DEVICE`)),
  };
}

/** A device whose Olm state lives in its own store, as a client with a database has it. */
export class StoredDevice {
  readonly store = new InMemoryStore();
  private current: LibolmBackend | undefined;

  private constructor(
    readonly localpart: string,
    private readonly extra: Partial<LibolmBackendOptions>,
  ) {}

  static async open(
    localpart: string,
    extra: Partial<LibolmBackendOptions> = {},
  ): Promise<StoredDevice> {
    const device = new StoredDevice(localpart, extra);
    await device.reopen();
    return device;
  }

  get backend(): LibolmBackend {
    if (this.current === undefined) throw new Error("not open");
    return this.current;
  }

  /** Commits what changed, as the coordinator does after every operation. */
  async save(): Promise<OlmStateChanges | undefined> {
    return commitChanges(this.store, this.backend.takeChanges());
  }

  /** A restart: what was saved survives, nothing else does. */
  async restart(options: { readonly save: boolean } = { save: true }): Promise<void> {
    if (options.save) await this.save();
    this.backend.dispose();
    await this.reopen();
  }

  /** One fresh one-time key, published and saved, as /keys/claim would hand it out. */
  async claim(): Promise<ClaimedOneTimeKey> {
    const [entry] = Object.entries(unwrap(this.backend.generateOneTimeKeys(1)));
    if (entry === undefined) throw new Error("no one-time key generated");
    await this.save();
    return { keyId: entry[0], keyObject: entry[1] };
  }

  private async reopen(): Promise<void> {
    this.current = unwrap(
      await LibolmBackend.open({
        ...optionsFor(this.localpart),
        ...this.extra,
        store: this.store,
        pickleKey: pickleKeyOf(this.localpart),
      }),
    );
    opened.push(this.current);
  }
}

export async function commitChanges(
  store: Pick<KeyWithholdingStore, "commit">,
  changes: OlmStateChanges | undefined,
): Promise<OlmStateChanges | undefined> {
  if (changes !== undefined) {
    await store.commit({
      ...emptyChanges(),
      olmAccount: changes.account,
      olmSessions: changes.sessions,
    });
  }
  return changes;
}

/** A store that answers `loadOlm` with anything at all (the library must not trust it). */
export function storeAnswering(answer: () => Promise<unknown>): Pick<
  KeyWithholdingStore,
  "loadOlm" | "commit"
> & {
  readonly commits: number;
} {
  let commits = 0;
  return {
    loadOlm: answer as () => Promise<StoredOlmState | undefined>,
    commit: async () => {
      commits += 1;
    },
    get commits() {
      return commits;
    },
  };
}

/** Opens over `store` with the device "bob" and the given (or Bob's own) pickle key. */
export async function openBob(
  store: Pick<KeyWithholdingStore, "loadOlm" | "commit">,
  pickleKey: Uint8Array = pickleKeyOf("bob"),
  extra: Partial<LibolmBackendOptions> = {},
): ReturnType<typeof LibolmBackend.open> {
  const result = await LibolmBackend.open({ ...optionsFor("bob"), ...extra, store, pickleKey });
  if (result.ok) opened.push(result.value);
  return result;
}

export const asJson = (content: unknown): JsonObject => content as JsonObject;
